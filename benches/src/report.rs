//! The table the benchmark prints: absolute figures, ratios, targets and whether each is met.

use std::fmt::Write as _;

/// One line of the table.
#[derive(Debug, Clone)]
pub struct Row {
    /// What is measured.
    pub measure: String,
    /// vllora_llm's figure, with its unit.
    pub library: String,
    /// The baseline's figure, with its unit.
    pub baseline: String,
    /// vllora_llm over the baseline (or the figure itself for absolute targets).
    pub ratio: Option<f64>,
    /// The target, as a maximum.
    pub target: Option<f64>,
}

impl Row {
    /// Whether the target is met; `None` when the row has no target.
    pub fn met(&self) -> Option<bool> {
        Some(self.ratio? <= self.target?)
    }
}

/// Formats the rows as a Markdown table.
pub fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| measure | vllora_llm | baseline | ratio | target | met |\n|---|---:|---:|---:|---:|---|\n",
    );
    for row in rows {
        let ratio = row.ratio.map_or_else(|| "-".to_owned(), |ratio| format!("{ratio:.2}"));
        let target = row.target.map_or_else(|| "-".to_owned(), |target| format!("<= {target:.2}"));
        let met = match row.met() {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "-",
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {ratio} | {target} | {met} |",
            row.measure, row.library, row.baseline
        );
    }
    out
}

/// Microseconds with two decimals.
pub fn micros(seconds: f64) -> String {
    format!("{:.2} µs", seconds * 1e6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_meets_its_target_only_at_or_below_it() {
        let row = |ratio| Row {
            measure: "m".to_owned(),
            library: "2 µs".to_owned(),
            baseline: "1 µs".to_owned(),
            ratio: Some(ratio),
            target: Some(1.15),
        };
        assert_eq!(row(1.15).met(), Some(true));
        assert_eq!(row(1.16).met(), Some(false));
        let rendered = table(&[row(1.16)]);
        assert!(rendered.contains("| m | 2 µs | 1 µs | 1.16 | <= 1.15 | **no** |"), "{rendered}");
    }
}
