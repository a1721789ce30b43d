//! What the benchmark measures with: process CPU time and resident memory from `/proc`, a counting
//! global allocator, and medians.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

/// Linux reports CPU times in `USER_HZ` ticks, which the kernel ABI fixes at 100 per second.
const TICKS_PER_SECOND: f64 = 100.0;
/// The page size of every Linux machine this runs on (x86_64 and aarch64 with 4 KiB pages).
const PAGE_SIZE: u64 = 4096;

/// User plus system CPU time of this whole process (every thread, live or exited), in seconds.
///
/// The loopback server runs in a child process, so this is the client's CPU alone.
pub fn process_cpu_seconds() -> Result<f64, String> {
    let stat =
        std::fs::read_to_string("/proc/self/stat").map_err(|error| format!("/proc/self/stat: {error}"))?;
    // The command name (field 2) may contain spaces, so fields are counted after its closing paren.
    let after_name = stat.rsplit_once(')').map(|(_, rest)| rest).ok_or("/proc/self/stat has no ')'")?;
    let mut fields = after_name.split_whitespace();
    // After the name come `state` (field 3) ... `utime` (field 14) and `stime` (field 15).
    let utime = fields.nth(11).and_then(|field| field.parse::<u64>().ok());
    let stime = fields.next().and_then(|field| field.parse::<u64>().ok());
    match (utime, stime) {
        (Some(utime), Some(stime)) => Ok((utime + stime) as f64 / TICKS_PER_SECOND),
        _ => Err(format!("cannot read utime and stime from /proc/self/stat: {stat}")),
    }
}

/// Resident set size of this process in bytes.
pub fn resident_bytes() -> Result<u64, String> {
    let statm =
        std::fs::read_to_string("/proc/self/statm").map_err(|error| format!("/proc/self/statm: {error}"))?;
    let pages = statm
        .split_whitespace()
        .nth(1)
        .and_then(|field| field.parse::<u64>().ok())
        .ok_or_else(|| format!("cannot read the resident size from /proc/self/statm: {statm}"))?;
    Ok(pages * PAGE_SIZE)
}

/// Counts calls into the allocator and the bytes live on the heap.
#[derive(Debug)]
pub struct CountingAllocator {
    allocations: AtomicU64,
    allocated_bytes: AtomicU64,
    freed_bytes: AtomicU64,
}

impl CountingAllocator {
    /// A counter with nothing counted yet.
    pub const fn new() -> Self {
        CountingAllocator {
            allocations: AtomicU64::new(0),
            allocated_bytes: AtomicU64::new(0),
            freed_bytes: AtomicU64::new(0),
        }
    }

    /// Calls to `alloc`, `alloc_zeroed` and `realloc` so far: every trip to the allocator that may
    /// allocate.
    pub fn allocations(&self) -> u64 {
        self.allocations.load(Ordering::Relaxed)
    }

    /// Bytes allocated and not yet freed.
    pub fn live_bytes(&self) -> u64 {
        self.allocated_bytes.load(Ordering::Relaxed).saturating_sub(self.freed_bytes.load(Ordering::Relaxed))
    }
}

impl Default for CountingAllocator {
    fn default() -> Self {
        CountingAllocator::new()
    }
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so `System`'s
// guarantees are ours; the counters are atomics and never touch the memory handed out.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.allocations.fetch_add(1, Ordering::Relaxed);
        self.allocated_bytes.fetch_add(layout.size() as u64, Ordering::Relaxed);
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which is `System`'s.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        self.allocations.fetch_add(1, Ordering::Relaxed);
        self.allocated_bytes.fetch_add(layout.size() as u64, Ordering::Relaxed);
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        self.freed_bytes.fetch_add(layout.size() as u64, Ordering::Relaxed);
        // SAFETY: the caller passes a pointer this allocator (that is, `System`) returned, with its layout.
        unsafe { System.dealloc(pointer, layout) }
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        self.allocations.fetch_add(1, Ordering::Relaxed);
        self.allocated_bytes.fetch_add(new_size as u64, Ordering::Relaxed);
        self.freed_bytes.fetch_add(layout.size() as u64, Ordering::Relaxed);
        // SAFETY: as for `dealloc`, and `new_size` comes from the caller under the same contract.
        unsafe { System.realloc(pointer, layout, new_size) }
    }
}

/// The median of some samples (the mean of the middle two for an even count); 0 for none.
pub fn median(samples: &[f64]) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    match (sorted.get(middle.wrapping_sub(1)), sorted.get(middle)) {
        (Some(low), Some(high)) if sorted.len() % 2 == 0 => (low + high) / 2.0,
        (_, Some(only)) => *only,
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(&[]), 0.0);
    }

    #[test]
    fn process_cpu_grows_with_work() {
        // Spin until the kernel has charged this process 20 ms more CPU. On a busy machine that can
        // take far longer than 20 ms of wall time, so the only bound is a generous one; the test checks
        // that CPU time is read and grows, not how fast.
        let Ok(before) = process_cpu_seconds() else { panic!("no /proc/self/stat") };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let mut sum = 0u64;
        let mut after = before;
        while after - before < 0.02 && std::time::Instant::now() < deadline {
            for _ in 0..100_000 {
                sum = sum.wrapping_add(std::hint::black_box(sum) ^ 0x9e37_79b9);
            }
            let Ok(now) = process_cpu_seconds() else { panic!("no /proc/self/stat") };
            assert!(now >= after, "process CPU time went backwards: {after} -> {now}");
            after = now;
        }
        std::hint::black_box(sum);
        assert!(after - before >= 0.02, "a minute of spinning showed as {} s of CPU", after - before);
    }

    #[test]
    fn resident_size_is_plausible() {
        let Ok(bytes) = resident_bytes() else { panic!("no /proc/self/statm") };
        assert!(bytes > 100_000 && bytes < 10_000_000_000, "{bytes}");
    }
}
