//! Compact JSON output for request bodies: the same bytes as `serde_json::to_vec`, written faster.
//!
//! Request bodies are mostly text (prompts, tool descriptions, schemas), and `serde_json` escapes a
//! string by looking every byte up in a table. This serializer checks eight bytes at a time for the
//! three things JSON must escape (`"`, `\` and control characters below U+0020) and copies clean runs
//! whole, and it writes into a `Vec<u8>` directly, with no `io::Write` error to thread through every
//! write. Numbers are written as `serde_json` writes them: integers with `itoa` (the crate `serde_json`
//! itself uses), floats by `serde_json` (`null` for NaN and infinities, as there). The tests compare the
//! output with `serde_json::to_vec` byte for byte.

use std::fmt;

use serde::ser::{self, Serialize};

/// Why a value could not be written as JSON (a map key that is not a string, or a `Serialize`
/// implementation's own error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError(String);

impl fmt::Display for JsonError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl std::error::Error for JsonError {}

impl ser::Error for JsonError {
    fn custom<T: fmt::Display>(message: T) -> Self {
        JsonError(message.to_string())
    }
}

/// `value` as compact JSON, byte for byte what `serde_json::to_vec` writes.
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, JsonError> {
    to_vec_with_capacity(value, 256)
}

/// [`to_vec`] into a buffer of `capacity` bytes to start with (see [`SizeHint`]).
pub fn to_vec_with_capacity<T: Serialize + ?Sized>(value: &T, capacity: usize) -> Result<Vec<u8>, JsonError> {
    let mut out = Vec::with_capacity(capacity);
    to_writer(&mut out, value)?;
    Ok(out)
}

/// The size of the last body written for one target, to size the next one's buffer: a model's calls
/// send bodies of similar sizes (a conversation grows a little per turn), and growing a buffer from 256
/// bytes costs a reallocation and a copy per doubling. One eighth more than the last body is reserved,
/// at least 256 bytes and at most 64 KiB (a larger body still grows as it needs).
#[derive(Debug, Default)]
pub struct SizeHint(std::sync::atomic::AtomicUsize);

impl Clone for SizeHint {
    fn clone(&self) -> Self {
        SizeHint(std::sync::atomic::AtomicUsize::new(self.0.load(std::sync::atomic::Ordering::Relaxed)))
    }
}

impl SizeHint {
    /// The capacity to start the next body with.
    pub fn capacity(&self) -> usize {
        let last = self.0.load(std::sync::atomic::Ordering::Relaxed);
        last.saturating_add(last / 8).clamp(256, 64 * 1024)
    }

    /// Records the size of the body just written.
    pub fn record(&self, len: usize) {
        self.0.store(len, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Appends `value` as compact JSON to `out`. On error, `out` holds whatever was written before it.
#[inline]
pub fn to_writer<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) -> Result<(), JsonError> {
    value.serialize(&mut Writer { out })
}

/// Appends `text` as a JSON string (quoted and escaped) to `out`.
#[inline]
pub fn write_str(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    match first_escape(bytes, 0) {
        // Most strings (and every field name) need no escape: one copy between the quotes.
        None => {
            out.reserve(bytes.len().saturating_add(2));
            out.push(b'"');
            out.extend_from_slice(bytes);
            out.push(b'"');
        }
        Some(at) => write_escaped(out, bytes, at),
    }
}

/// The index of the first byte at or after `from` that JSON escapes: eight bytes at a time while none
/// does (the lowest flagged lane is the first that does), then byte by byte for the last few.
#[inline]
fn first_escape(bytes: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    while let Some(word) = bytes.get(at..).and_then(<[u8]>::first_chunk::<8>) {
        match escape_lanes(u64::from_le_bytes(*word)) {
            0 => at += 8,
            lanes => return Some(at + (lanes.trailing_zeros() / 8) as usize),
        }
    }
    let rest = bytes.get(at..)?;
    rest.iter().position(|&byte| ESCAPE[usize::from(byte)] != 0).map(|offset| at + offset)
}

/// [`write_str`] for a string with a byte to escape at `first`.
#[inline(never)]
fn write_escaped(out: &mut Vec<u8>, bytes: &[u8], first: usize) {
    out.reserve(bytes.len().saturating_add(8));
    out.push(b'"');
    let mut clean_from = 0;
    let mut next = Some(first);
    while let Some(at) = next {
        let Some(&byte) = bytes.get(at) else { break };
        out.extend_from_slice(bytes.get(clean_from..at).unwrap_or_default());
        match ESCAPE[usize::from(byte)] {
            b'u' => {
                out.push(b'\\');
                out.push(b'u');
                out.push(b'0');
                out.push(b'0');
                out.push(HEX[usize::from(byte >> 4)]);
                out.push(HEX[usize::from(byte & 0x0F)]);
            }
            letter => {
                out.push(b'\\');
                out.push(letter);
            }
        }
        clean_from = at + 1;
        next = first_escape(bytes, clean_from);
    }
    out.extend_from_slice(bytes.get(clean_from..).unwrap_or_default());
    out.push(b'"');
}

/// The high bit of each of the eight byte lanes of `word` that holds `"`, `\` or a byte below 0x20.
/// The lowest set bit is exact: a borrow in the subtractions starts only at a byte that matches, so
/// lanes below the first match are never flagged (lanes above it may be; they are looked at again).
#[inline]
fn escape_lanes(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let has_zero = |value: u64| value.wrapping_sub(ONES) & !value & HIGH;
    let control = word.wrapping_sub(ONES * 0x20) & !word & HIGH;
    control | has_zero(word ^ (ONES * u64::from(b'"'))) | has_zero(word ^ (ONES * u64::from(b'\\')))
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// For each byte, 0 when it is written as is, else the letter after the backslash (`u` for
/// `\u00XX`), as `serde_json` escapes: `\b \t \n \f \r \" \\`, other control characters as `\u00XX`.
static ESCAPE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut byte = 0;
    while byte < 0x20 {
        table[byte] = b'u';
        byte += 1;
    }
    table[0x08] = b'b';
    table[0x09] = b't';
    table[0x0A] = b'n';
    table[0x0C] = b'f';
    table[0x0D] = b'r';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

#[inline]
fn write_integer(out: &mut Vec<u8>, value: impl itoa::Integer) -> Result<(), JsonError> {
    out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
    Ok(())
}

/// Floats go through `serde_json` itself, so their digits (and `null` for non-finite values) are its.
#[inline]
fn write_float<F: Serialize>(out: &mut Vec<u8>, value: F) -> Result<(), JsonError> {
    serde_json::to_writer(out, &value).map_err(|error| JsonError(error.to_string()))
}

/// The `serde_json` names under which `Number` (with `arbitrary_precision`) and `RawValue` pass their
/// JSON text as one string field, to be written as is.
const VERBATIM: [&str; 2] = ["$serde_json::private::Number", "$serde_json::private::RawValue"];

struct Writer<'a> {
    out: &'a mut Vec<u8>,
}

/// An array or object being written: `close` ends it (`]` or `}`), and `wrapped` adds the `}` of
/// the object around an enum variant; `verbatim` is a `serde_json` number or raw value.
struct Compound<'w, 'a> {
    writer: &'w mut Writer<'a>,
    first: bool,
    close: u8,
    wrapped: bool,
    verbatim: bool,
}

impl<'w, 'a> Compound<'w, 'a> {
    #[inline]
    fn open(writer: &'w mut Writer<'a>, open: u8, close: u8) -> Self {
        writer.out.push(open);
        Compound { writer, first: true, close, wrapped: false, verbatim: false }
    }

    /// `{"variant":` then the array or object of the variant's fields.
    #[inline]
    fn variant(writer: &'w mut Writer<'a>, variant: &str, open: u8, close: u8) -> Self {
        writer.out.push(b'{');
        write_str(writer.out, variant);
        writer.out.push(b':');
        let mut compound = Compound::open(writer, open, close);
        compound.wrapped = true;
        compound
    }

    #[inline]
    fn separator(&mut self) {
        if self.first {
            self.first = false;
        } else {
            self.writer.out.push(b',');
        }
    }

    #[inline]
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), JsonError> {
        self.separator();
        value.serialize(&mut *self.writer)
    }

    #[inline]
    fn field<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<(), JsonError> {
        if self.verbatim {
            return value.serialize(Verbatim { out: self.writer.out });
        }
        self.separator();
        write_str(self.writer.out, key);
        self.writer.out.push(b':');
        value.serialize(&mut *self.writer)
    }

    #[inline]
    fn finish(self) -> Result<(), JsonError> {
        if !self.verbatim {
            self.writer.out.push(self.close);
        }
        if self.wrapped {
            self.writer.out.push(b'}');
        }
        Ok(())
    }
}

impl<'w, 'a> ser::Serializer for &'w mut Writer<'a> {
    type Ok = ();
    type Error = JsonError;
    type SerializeSeq = Compound<'w, 'a>;
    type SerializeTuple = Compound<'w, 'a>;
    type SerializeTupleStruct = Compound<'w, 'a>;
    type SerializeTupleVariant = Compound<'w, 'a>;
    type SerializeMap = Compound<'w, 'a>;
    type SerializeStruct = Compound<'w, 'a>;
    type SerializeStructVariant = Compound<'w, 'a>;

    #[inline]
    fn serialize_bool(self, value: bool) -> Result<(), JsonError> {
        self.out.extend_from_slice(if value { b"true" } else { b"false" });
        Ok(())
    }
    #[inline]
    fn serialize_i8(self, value: i8) -> Result<(), JsonError> {
        write_integer(self.out, value)
    }
    #[inline]
    fn serialize_i16(self, value: i16) -> Result<(), JsonError> {
        write_integer(self.out, value)
    }
    #[inline]
    fn serialize_i32(self, value: i32) -> Result<(), JsonError> {
        write_integer(self.out, value)
    }
    #[inline]
    fn serialize_i64(self, value: i64) -> Result<(), JsonError> {
        write_integer(self.out, value)
    }
    #[inline]
    fn serialize_i128(self, value: i128) -> Result<(), JsonError> {
        write_integer(self.out, value)
    }
    #[inline]
    fn serialize_u8(self, value: u8) -> Result<(), JsonError> {
        write_integer(self.out, value)
    }
    #[inline]
    fn serialize_u16(self, value: u16) -> Result<(), JsonError> {
        write_integer(self.out, value)
    }
    #[inline]
    fn serialize_u32(self, value: u32) -> Result<(), JsonError> {
        write_integer(self.out, value)
    }
    #[inline]
    fn serialize_u64(self, value: u64) -> Result<(), JsonError> {
        write_integer(self.out, value)
    }
    #[inline]
    fn serialize_u128(self, value: u128) -> Result<(), JsonError> {
        write_integer(self.out, value)
    }
    #[inline]
    fn serialize_f32(self, value: f32) -> Result<(), JsonError> {
        write_float(self.out, value)
    }
    #[inline]
    fn serialize_f64(self, value: f64) -> Result<(), JsonError> {
        write_float(self.out, value)
    }
    #[inline]
    fn serialize_char(self, value: char) -> Result<(), JsonError> {
        write_str(self.out, value.encode_utf8(&mut [0u8; 4]));
        Ok(())
    }
    #[inline]
    fn serialize_str(self, value: &str) -> Result<(), JsonError> {
        write_str(self.out, value);
        Ok(())
    }
    #[inline]
    fn serialize_bytes(self, value: &[u8]) -> Result<(), JsonError> {
        let mut array = Compound::open(self, b'[', b']');
        for byte in value {
            array.element(byte)?;
        }
        array.finish()
    }
    #[inline]
    fn serialize_none(self) -> Result<(), JsonError> {
        self.serialize_unit()
    }
    #[inline]
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), JsonError> {
        value.serialize(self)
    }
    #[inline]
    fn serialize_unit(self) -> Result<(), JsonError> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }
    #[inline]
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), JsonError> {
        self.serialize_unit()
    }
    #[inline]
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), JsonError> {
        self.serialize_str(variant)
    }
    #[inline]
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), JsonError> {
        value.serialize(self)
    }
    #[inline]
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), JsonError> {
        let mut object = Compound::open(self, b'{', b'}');
        object.field(variant, value)?;
        object.finish()
    }
    #[inline]
    fn serialize_seq(self, _len: Option<usize>) -> Result<Compound<'w, 'a>, JsonError> {
        Ok(Compound::open(self, b'[', b']'))
    }
    #[inline]
    fn serialize_tuple(self, _len: usize) -> Result<Compound<'w, 'a>, JsonError> {
        Ok(Compound::open(self, b'[', b']'))
    }
    #[inline]
    fn serialize_tuple_struct(self, _name: &'static str, _len: usize) -> Result<Compound<'w, 'a>, JsonError> {
        Ok(Compound::open(self, b'[', b']'))
    }
    #[inline]
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'w, 'a>, JsonError> {
        Ok(Compound::variant(self, variant, b'[', b']'))
    }
    #[inline]
    fn serialize_map(self, _len: Option<usize>) -> Result<Compound<'w, 'a>, JsonError> {
        Ok(Compound::open(self, b'{', b'}'))
    }
    #[inline]
    fn serialize_struct(self, name: &'static str, _len: usize) -> Result<Compound<'w, 'a>, JsonError> {
        if VERBATIM.contains(&name) {
            return Ok(Compound { writer: self, first: true, close: b'}', wrapped: false, verbatim: true });
        }
        Ok(Compound::open(self, b'{', b'}'))
    }
    #[inline]
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'w, 'a>, JsonError> {
        Ok(Compound::variant(self, variant, b'{', b'}'))
    }
}

impl ser::SerializeSeq for Compound<'_, '_> {
    type Ok = ();
    type Error = JsonError;
    #[inline]
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), JsonError> {
        self.element(value)
    }
    #[inline]
    fn end(self) -> Result<(), JsonError> {
        self.finish()
    }
}

impl ser::SerializeTuple for Compound<'_, '_> {
    type Ok = ();
    type Error = JsonError;
    #[inline]
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), JsonError> {
        self.element(value)
    }
    #[inline]
    fn end(self) -> Result<(), JsonError> {
        self.finish()
    }
}

impl ser::SerializeTupleStruct for Compound<'_, '_> {
    type Ok = ();
    type Error = JsonError;
    #[inline]
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), JsonError> {
        self.element(value)
    }
    #[inline]
    fn end(self) -> Result<(), JsonError> {
        self.finish()
    }
}

impl ser::SerializeTupleVariant for Compound<'_, '_> {
    type Ok = ();
    type Error = JsonError;
    #[inline]
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), JsonError> {
        self.element(value)
    }
    #[inline]
    fn end(self) -> Result<(), JsonError> {
        self.finish()
    }
}

impl ser::SerializeMap for Compound<'_, '_> {
    type Ok = ();
    type Error = JsonError;
    #[inline]
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), JsonError> {
        self.separator();
        key.serialize(KeyWriter { out: self.writer.out })?;
        self.writer.out.push(b':');
        Ok(())
    }
    #[inline]
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), JsonError> {
        value.serialize(&mut *self.writer)
    }
    #[inline]
    fn end(self) -> Result<(), JsonError> {
        self.finish()
    }
}

impl ser::SerializeStruct for Compound<'_, '_> {
    type Ok = ();
    type Error = JsonError;
    #[inline]
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), JsonError> {
        self.field(key, value)
    }
    #[inline]
    fn end(self) -> Result<(), JsonError> {
        self.finish()
    }
}

impl ser::SerializeStructVariant for Compound<'_, '_> {
    type Ok = ();
    type Error = JsonError;
    #[inline]
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), JsonError> {
        self.field(key, value)
    }
    #[inline]
    fn end(self) -> Result<(), JsonError> {
        self.finish()
    }
}

/// The `Serializer` methods a restricted writer refuses with `$error()`: `plain` ones take the listed
/// arguments, `generic` ones the listed arguments then a value; every compound (sequence, map, struct...)
/// is refused too.
macro_rules! refuse {
    (
        $error:ident;
        plain { $($plain:ident($($plain_arg:ty),*)),* $(,)? }
        generic { $($generic:ident($($generic_arg:ty),*)),* $(,)? }
    ) => {
        $(
            #[inline]
            fn $plain(self, $(_: $plain_arg),*) -> Result<(), JsonError> {
                Err($error())
            }
        )*
        $(
            #[inline]
            fn $generic<T: Serialize + ?Sized>(self, $(_: $generic_arg,)* _: &T) -> Result<(), JsonError> {
                Err($error())
            }
        )*
        #[inline]
        fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, JsonError> {
            Err($error())
        }
        #[inline]
        fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, JsonError> {
            Err($error())
        }
        #[inline]
        fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeTupleStruct, JsonError> {
            Err($error())
        }
        #[inline]
        fn serialize_tuple_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleVariant, JsonError> {
            Err($error())
        }
        #[inline]
        fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, JsonError> {
            Err($error())
        }
        #[inline]
        fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, JsonError> {
            Err($error())
        }
        #[inline]
        fn serialize_struct_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeStructVariant, JsonError> {
            Err($error())
        }
    };
}

fn key_must_be_a_string() -> JsonError {
    JsonError("key must be a string".to_owned())
}

/// Writes a map key: strings as they are; booleans, integers and finite floats quoted, as
/// `serde_json` writes them; anything else is an error.
struct KeyWriter<'a> {
    out: &'a mut Vec<u8>,
}

impl KeyWriter<'_> {
    #[inline]
    fn quoted(self, write: impl FnOnce(&mut Vec<u8>) -> Result<(), JsonError>) -> Result<(), JsonError> {
        self.out.push(b'"');
        write(self.out)?;
        self.out.push(b'"');
        Ok(())
    }
}

impl ser::Serializer for KeyWriter<'_> {
    type Ok = ();
    type Error = JsonError;
    type SerializeSeq = ser::Impossible<(), JsonError>;
    type SerializeTuple = ser::Impossible<(), JsonError>;
    type SerializeTupleStruct = ser::Impossible<(), JsonError>;
    type SerializeTupleVariant = ser::Impossible<(), JsonError>;
    type SerializeMap = ser::Impossible<(), JsonError>;
    type SerializeStruct = ser::Impossible<(), JsonError>;
    type SerializeStructVariant = ser::Impossible<(), JsonError>;

    #[inline]
    fn serialize_bool(self, value: bool) -> Result<(), JsonError> {
        self.quoted(|out| {
            out.extend_from_slice(if value { b"true" } else { b"false" });
            Ok(())
        })
    }
    #[inline]
    fn serialize_i8(self, value: i8) -> Result<(), JsonError> {
        self.quoted(|out| write_integer(out, value))
    }
    #[inline]
    fn serialize_i16(self, value: i16) -> Result<(), JsonError> {
        self.quoted(|out| write_integer(out, value))
    }
    #[inline]
    fn serialize_i32(self, value: i32) -> Result<(), JsonError> {
        self.quoted(|out| write_integer(out, value))
    }
    #[inline]
    fn serialize_i64(self, value: i64) -> Result<(), JsonError> {
        self.quoted(|out| write_integer(out, value))
    }
    #[inline]
    fn serialize_i128(self, value: i128) -> Result<(), JsonError> {
        self.quoted(|out| write_integer(out, value))
    }
    #[inline]
    fn serialize_u8(self, value: u8) -> Result<(), JsonError> {
        self.quoted(|out| write_integer(out, value))
    }
    #[inline]
    fn serialize_u16(self, value: u16) -> Result<(), JsonError> {
        self.quoted(|out| write_integer(out, value))
    }
    #[inline]
    fn serialize_u32(self, value: u32) -> Result<(), JsonError> {
        self.quoted(|out| write_integer(out, value))
    }
    #[inline]
    fn serialize_u64(self, value: u64) -> Result<(), JsonError> {
        self.quoted(|out| write_integer(out, value))
    }
    #[inline]
    fn serialize_u128(self, value: u128) -> Result<(), JsonError> {
        self.quoted(|out| write_integer(out, value))
    }
    #[inline]
    fn serialize_f32(self, value: f32) -> Result<(), JsonError> {
        if !value.is_finite() {
            return Err(JsonError("float key must be finite".to_owned()));
        }
        self.quoted(|out| write_float(out, value))
    }
    #[inline]
    fn serialize_f64(self, value: f64) -> Result<(), JsonError> {
        if !value.is_finite() {
            return Err(JsonError("float key must be finite".to_owned()));
        }
        self.quoted(|out| write_float(out, value))
    }
    #[inline]
    fn serialize_char(self, value: char) -> Result<(), JsonError> {
        write_str(self.out, value.encode_utf8(&mut [0u8; 4]));
        Ok(())
    }
    #[inline]
    fn serialize_str(self, value: &str) -> Result<(), JsonError> {
        write_str(self.out, value);
        Ok(())
    }
    #[inline]
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), JsonError> {
        self.serialize_str(variant)
    }
    #[inline]
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), JsonError> {
        value.serialize(self)
    }
    refuse! {
        key_must_be_a_string;
        plain { serialize_bytes(&[u8]), serialize_none(), serialize_unit(), serialize_unit_struct(&'static str) }
        generic { serialize_some(), serialize_newtype_variant(&'static str, u32, &'static str) }
    }
}

/// Writes the one string field of a `serde_json` verbatim struct (`Number`, `RawValue`) as is.
struct Verbatim<'a> {
    out: &'a mut Vec<u8>,
}

fn not_verbatim() -> JsonError {
    JsonError("a serde_json number or raw value held no JSON text".to_owned())
}

impl ser::Serializer for Verbatim<'_> {
    type Ok = ();
    type Error = JsonError;
    type SerializeSeq = ser::Impossible<(), JsonError>;
    type SerializeTuple = ser::Impossible<(), JsonError>;
    type SerializeTupleStruct = ser::Impossible<(), JsonError>;
    type SerializeTupleVariant = ser::Impossible<(), JsonError>;
    type SerializeMap = ser::Impossible<(), JsonError>;
    type SerializeStruct = ser::Impossible<(), JsonError>;
    type SerializeStructVariant = ser::Impossible<(), JsonError>;

    fn serialize_str(self, value: &str) -> Result<(), JsonError> {
        self.out.extend_from_slice(value.as_bytes());
        Ok(())
    }

    refuse! {
        not_verbatim;
        plain {
            serialize_bool(bool), serialize_i8(i8), serialize_i16(i16), serialize_i32(i32), serialize_i64(i64),
            serialize_u8(u8), serialize_u16(u16), serialize_u32(u32), serialize_u64(u64), serialize_f32(f32),
            serialize_f64(f64), serialize_char(char), serialize_bytes(&[u8]), serialize_none(), serialize_unit(),
            serialize_unit_struct(&'static str), serialize_unit_variant(&'static str, u32, &'static str)
        }
        generic {
            serialize_some(), serialize_newtype_struct(&'static str),
            serialize_newtype_variant(&'static str, u32, &'static str)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Serialize;
    use serde_json::{Value, json};

    use super::*;

    fn same_as_serde_json<T: Serialize + ?Sized>(value: &T) {
        let ours = to_vec(value);
        let theirs = serde_json::to_vec(value);
        match (ours, theirs) {
            (Ok(ours), Ok(theirs)) => assert_eq!(
                String::from_utf8_lossy(&ours),
                String::from_utf8_lossy(&theirs),
                "bytes differ from serde_json"
            ),
            (Err(_), Err(_)) => {}
            (ours, theirs) => panic!("ours {ours:?}, serde_json {theirs:?}"),
        }
    }

    #[test]
    fn every_byte_at_every_offset_escapes_as_serde_json_does() {
        for byte in 0u8..0x80 {
            let character = char::from(byte);
            for before in 0..18 {
                for after in [0, 1, 7, 9] {
                    let text: String = std::iter::repeat_n('a', before)
                        .chain(std::iter::once(character))
                        .chain(std::iter::repeat_n('z', after))
                        .collect();
                    same_as_serde_json(&text);
                }
            }
        }
    }

    #[test]
    fn non_ascii_and_mixed_text_is_kept_as_serde_json_keeps_it() {
        for text in [
            "",
            "é",
            "日本語のテキスト、\"引用\"と\\バックスラッシュ\\",
            "emoji 🦀🦀🦀🦀 and \u{7f} delete and \u{80}\u{9f} C1 controls",
            "\u{2028}\u{2029} line separators stay as they are",
            "tab\there\r\nnew line\u{0}nul\u{1b}[0mescape\u{8}\u{c}",
            "\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"",
            "\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\",
            "ÿÿÿÿÿÿÿÿ\u{ff}\u{fe}\u{100}ĀāĂă",
        ] {
            same_as_serde_json(text);
            same_as_serde_json(&json!({ text: text, "list": [text, text] }));
        }
        // Every two-byte pattern mixing a high byte with each escape, at each alignment.
        for high in ['é', '€', '𝄞'] {
            for special in ['"', '\\', '\n', '\u{1f}', '\u{0}'] {
                for offset in 0..9 {
                    let text: String =
                        std::iter::repeat_n(high, offset).chain([special, high, special]).collect();
                    same_as_serde_json(&text);
                }
            }
        }
    }

    #[test]
    fn values_numbers_and_nesting_are_written_as_serde_json_writes_them() {
        let value = json!({
            "model": "gpt-4.1-mini",
            "temperature": 0.7,
            "top_p": 1.0,
            "tiny": 1e-300,
            "huge": 1.7976931348623157e308,
            "negative": -12.5e-3,
            "integers": [0, 1, -1, i64::MIN, i64::MAX, u64::MAX],
            "empty_object": {},
            "empty_array": [],
            "null": null,
            "bools": [true, false],
            "nested": {"a": [{"b": {"c": [[], [{}], "d\"e"]}}]},
        });
        same_as_serde_json(&value);
        same_as_serde_json(&f64::NAN);
        same_as_serde_json(&f64::INFINITY);
        same_as_serde_json(&[1.5f32, f32::MIN_POSITIVE, 3.4e38, 0.1]);
        same_as_serde_json(&[u128::MAX]);
        same_as_serde_json(&[i128::MIN]);
        same_as_serde_json(&'"');
        same_as_serde_json(&'\u{1}');
        same_as_serde_json(&b"bytes"[..]);
        same_as_serde_json(&serde_bytes_like());
    }

    fn serde_bytes_like() -> impl Serialize {
        struct Bytes;
        impl Serialize for Bytes {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_bytes(&[0, 127, 255])
            }
        }
        Bytes
    }

    #[derive(Serialize)]
    enum Shape {
        Unit,
        Newtype(u8),
        Tuple(u8, String),
        Struct { name: &'static str, size: Option<u32> },
    }

    #[derive(Serialize)]
    struct Unit;

    #[derive(Serialize)]
    struct Wrapper(String);

    #[derive(Serialize)]
    struct Pair(u8, &'static str);

    #[derive(Serialize)]
    #[serde(tag = "type", rename_all = "snake_case")]
    enum Tagged {
        Text {
            text: String,
        },
        Image {
            url: String,
            #[serde(skip_serializing_if = "Option::is_none")]
            detail: Option<String>,
        },
    }

    #[derive(Serialize)]
    struct Body<'a> {
        shapes: Vec<Shape>,
        unit: Unit,
        wrapper: Wrapper,
        pair: Pair,
        tuple: (u8, bool, ()),
        tagged: Vec<Tagged>,
        #[serde(flatten)]
        extra: BTreeMap<&'a str, Value>,
        #[serde(skip_serializing_if = "Option::is_none")]
        skipped: Option<u8>,
        borrowed: &'a str,
    }

    #[test]
    fn derived_structs_enums_and_flatten_are_written_as_serde_json_writes_them() {
        let mut extra = BTreeMap::new();
        extra.insert("provider_field", json!({"keep": ["all", 1, 2.5]}));
        extra.insert("k\"ey", json!("v\nalue"));
        let body = Body {
            shapes: vec![
                Shape::Unit,
                Shape::Newtype(7),
                Shape::Tuple(1, "two".to_owned()),
                Shape::Struct { name: "n", size: None },
                Shape::Struct { name: "m", size: Some(3) },
            ],
            unit: Unit,
            wrapper: Wrapper("w".to_owned()),
            pair: Pair(9, "nine"),
            tuple: (1, true, ()),
            tagged: vec![
                Tagged::Text { text: "hello\u{7}".to_owned() },
                Tagged::Image { url: "data:image/png;base64,AAAA".to_owned(), detail: None },
                Tagged::Image { url: "https://x/y.png".to_owned(), detail: Some("high".to_owned()) },
            ],
            extra,
            skipped: None,
            borrowed: "borrowed \\ text",
        };
        same_as_serde_json(&body);
    }

    #[test]
    fn map_keys_follow_serde_json() {
        same_as_serde_json(&BTreeMap::from([(1u32, "one"), (2, "two")]));
        same_as_serde_json(&BTreeMap::from([(-5i64, 0)]));
        same_as_serde_json(&BTreeMap::from([(true, 1), (false, 0)]));
        same_as_serde_json(&BTreeMap::from([('c', 1)]));
        same_as_serde_json(&BTreeMap::from([(Wrapper("k".to_owned()).0, 1)]));
        // Keys that are not strings nor numbers are errors, as in serde_json.
        same_as_serde_json(&BTreeMap::from([(vec![1u8], 1)]));
        same_as_serde_json(&BTreeMap::from([((), 1)]));
        let error = to_vec(&BTreeMap::from([(Some(1u8), 1)])).err();
        assert_eq!(error.map(|error| error.to_string()).as_deref(), Some("key must be a string"));
    }

    #[test]
    fn the_size_hint_reserves_an_eighth_more_than_the_last_body_within_bounds() {
        let hint = SizeHint::default();
        assert_eq!(hint.capacity(), 256);
        hint.record(1_600);
        assert_eq!(hint.capacity(), 1_800);
        assert_eq!(hint.clone().capacity(), 1_800);
        hint.record(10);
        assert_eq!(hint.capacity(), 256);
        hint.record(usize::MAX);
        assert_eq!(hint.capacity(), 64 * 1024);
        let body = json!({"text": "x".repeat(300)});
        let written = to_vec_with_capacity(&body, hint.capacity()).unwrap_or_default();
        assert_eq!(written, serde_json::to_vec(&body).unwrap_or_default());
    }

    #[test]
    fn errors_of_serialize_impls_are_returned() {
        struct Failing;
        impl Serialize for Failing {
            fn serialize<S: serde::Serializer>(&self, _serializer: S) -> Result<S::Ok, S::Error> {
                Err(serde::ser::Error::custom("this value refuses"))
            }
        }
        let error = to_vec(&json!(null)).and_then(|_| to_vec(&[Failing])).err();
        assert_eq!(error.map(|error| error.to_string()).as_deref(), Some("this value refuses"));
    }

    #[test]
    fn the_eight_byte_check_finds_exactly_the_first_byte_to_escape() {
        // Every byte value in every lane, the other lanes clean ('a') or high (0xff).
        for filler in [b'a', 0xff, 0x20, 0x7f] {
            for lane in 0..8 {
                for byte in 0u8..=255 {
                    let mut word = [filler; 8];
                    word[lane] = byte;
                    let first = word.iter().position(|&byte| ESCAPE[usize::from(byte)] != 0);
                    let lanes = escape_lanes(u64::from_le_bytes(word));
                    let flagged = (lanes != 0).then(|| (lanes.trailing_zeros() / 8) as usize);
                    assert_eq!(flagged, first, "{word:?}");
                }
            }
        }
    }
}
