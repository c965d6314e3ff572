//! The JSON renderer: the report as one pretty-printed JSON object.

use serde::Serialize;

/// Renders any report as one JSON object followed by a newline.
pub fn render<T: Serialize>(report: &T) -> String {
    // Serializing plain structs of numbers and strings cannot fail; keep a readable fallback.
    let mut text = serde_json::to_string_pretty(report)
        .unwrap_or_else(|e| format!("{{\"error\": \"cannot serialize report: {e}\"}}"));
    text.push('\n');
    text
}
