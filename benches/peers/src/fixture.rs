//! The request every peer sends: the same conversation, tool and parameters as the main bench's
//! `benches/src/fixtures.rs` (`gateway_request` and `turns_request`), as plain data. Each peer builds
//! its own request types from it. `cargo xtask bench --peers` checks, before measuring, that each peer
//! posts what the main bench's fixture holds (`vllora_llm_peers request ...`), so the two cannot drift
//! apart unnoticed.

/// The model every request names.
pub const MODEL: &str = "gpt-4o-mini";
/// The API key the clients send (the loopback server ignores it).
pub const API_KEY: &str = "sk-bench-0123456789abcdef";

pub const SYSTEM_PROMPT: &str = "You are a travel assistant for a rail company. Answer in two sentences at most, \
     quote prices in euros, and call get_timetable before naming a departure time.";
pub const FIRST_QUESTION: &str =
    "Is there a train from Lyon to Marseille on Saturday morning, and how much is it?";
pub const CALL_ID: &str = "call_Zt4mVq2R8sLw1KxN0pYb";
pub const TOOL_NAME: &str = "get_timetable";
pub const CALL_ARGUMENTS: &str =
    r#"{"from":"Lyon Part-Dieu","to":"Marseille Saint-Charles","date":"2025-06-14"}"#;
pub const TOOL_RESULT: &str =
    r#"{"departures":[{"time":"07:04","price_eur":29},{"time":"08:34","price_eur":35}]}"#;
pub const LAST_QUESTION: &str = "The earlier one, please. Is it direct?";
pub const TOOL_DESCRIPTION: &str = "Departures between two stations on a date, with their prices.";
pub const TEMPERATURE: f32 = 0.2;
pub const TOP_P: f32 = 0.9;
pub const MAX_TOKENS: u32 = 300;
pub const USER: &str = "user-4821";

/// The tool's JSON schema.
pub fn tool_parameters() -> serde_json::Value {
    serde_json::json!({
        "type": "object",
        "properties": {
            "from": {"type": "string", "description": "Departure station"},
            "to": {"type": "string", "description": "Arrival station"},
            "date": {"type": "string", "description": "ISO 8601 date"}
        },
        "required": ["from", "to", "date"],
        "additionalProperties": false
    })
}

/// Messages in the long conversation, the system prompt included (`fixtures::TURNS` in the main bench).
pub const TURNS: usize = 1_000;

const USER_TURNS: [&str; 4] = [
    "Which trains leave Lyon for Marseille tomorrow before noon?",
    "Can I bring a bicycle on the 09:04, and does it cost extra?",
    "My daughter is 11: which fare applies to her, and can we sit together?",
    "Please list the stops of the 10:34 \"TER\" service.\nI need the exact times.",
];

const ASSISTANT_TURNS: [&str; 4] = [
    "Three trains leave before noon: 07:04, 09:04 and 10:34. The 07:04 is direct and costs 29 euros.",
    "Yes, bicycles travel free on the 09:04 if you book a bike space; there are six per train.",
    "Children from 4 to 11 pay the youth fare, 50% off. I can reserve two adjacent seats in coach 6.",
    "The 10:34 stops at Vienne (10:52), Valence (11:31) and Avignon (12:25), reaching Marseille at 13:05.",
];

/// The long conversation: `(role, text)` for every message after the system prompt, user and
/// assistant alternately, ending with the user's.
pub fn turns() -> impl Iterator<Item = (&'static str, &'static str)> {
    (0..TURNS - 1).map(|position| {
        let exchange = (position / 2) % USER_TURNS.len();
        if position % 2 == 0 {
            ("user", USER_TURNS.get(exchange).copied().unwrap_or_default())
        } else {
            ("assistant", ASSISTANT_TURNS.get(exchange).copied().unwrap_or_default())
        }
    })
}

/// What a scenario asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// The one-shot request.
    OneShot,
    /// The same request streamed, with usage.
    Stream,
    /// The long conversation, one-shot.
    Turns,
}

impl Request {
    /// The request a scenario of the main bench's server sends.
    pub fn for_scenario(scenario: &str) -> Result<Request, String> {
        match scenario {
            "oneshot" => Ok(Request::OneShot),
            "stream-split" | "stream-whole" | "stall" => Ok(Request::Stream),
            "turns" => Ok(Request::Turns),
            other => Err(format!("unknown scenario {other}")),
        }
    }
}
