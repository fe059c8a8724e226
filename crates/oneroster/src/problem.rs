use std::fmt;

/// One thing wrong with a package, located as precisely as the reader knows it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}", Place(self))]
pub struct Problem {
    pub file: String,
    /// The 1-based physical line where the record starts; the header is line 1.
    pub line: Option<u64>,
    /// The column's OneRoster name (or, for an unknown column, the name as written).
    pub column: Option<String>,
    pub message: String,
}

struct Place<'a>(&'a Problem);

impl fmt::Display for Place<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = self.0;
        f.write_str(&p.file)?;
        if let Some(line) = p.line {
            write!(f, ", line {line}")?;
        }
        if let Some(column) = &p.column {
            write!(f, ", column {column}")?;
        }
        write!(f, ": {}", p.message)
    }
}

impl Problem {
    pub fn new(file: impl Into<String>, line: Option<u64>, column: Option<&str>, message: impl Into<String>) -> Self {
        Problem { file: file.into(), line, column: column.map(str::to_owned), message: message.into() }
    }

    pub(crate) fn in_file(file: impl Into<String>, message: impl Into<String>) -> Self {
        Problem::new(file, None, None, message)
    }
}

/// Past this many errors the reader stops: the first ones are what the user fixes
/// next, and a broken region package would otherwise produce millions.
pub(crate) const MAX_PROBLEMS: usize = 200;

/// Collects errors and warnings while a package is read.
#[derive(Debug, Default)]
pub(crate) struct Report {
    pub errors: Vec<Problem>,
    pub warnings: Vec<Problem>,
    hidden_warnings: u64,
    stopped: bool,
}

impl Report {
    pub fn error(&mut self, problem: Problem) {
        if self.errors.len() < MAX_PROBLEMS {
            self.errors.push(problem);
        } else if !self.stopped {
            self.stopped = true;
            self.errors.push(Problem::in_file(
                problem.file,
                format!("stopped reading after {MAX_PROBLEMS} problems; fix these first"),
            ));
        }
    }

    pub fn warn(&mut self, problem: Problem) {
        if self.warnings.len() < MAX_PROBLEMS {
            self.warnings.push(problem);
        } else {
            self.hidden_warnings += 1;
        }
    }

    pub fn is_full(&self) -> bool {
        self.errors.len() >= MAX_PROBLEMS
    }

    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    pub fn into_warnings(mut self) -> Vec<Problem> {
        if self.hidden_warnings > 0 {
            let file = self.warnings.last().map(|w| w.file.clone()).unwrap_or_default();
            self.warnings.push(Problem::in_file(file, format!("{} more warnings not shown", self.hidden_warnings)));
        }
        self.warnings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_names_only_the_parts_it_knows() {
        let full = Problem::new("users.csv", Some(12), Some("givenName"), "the value is empty");
        assert_eq!(full.to_string(), "users.csv, line 12, column givenName: the value is empty");
        let no_column = Problem::new("users.csv", Some(3), None, "x");
        assert_eq!(no_column.to_string(), "users.csv, line 3: x");
        assert_eq!(Problem::in_file("roles.csv", "missing").to_string(), "roles.csv: missing");
    }

    #[test]
    fn the_report_stops_collecting_errors_at_the_cap() {
        let mut report = Report::default();
        for i in 0..(MAX_PROBLEMS as u64 + 50) {
            report.error(Problem::new("users.csv", Some(i + 2), None, "bad"));
        }
        assert!(report.is_full());
        assert_eq!(report.errors.len(), MAX_PROBLEMS + 1);
        assert!(report.errors[MAX_PROBLEMS].message.starts_with("stopped reading"));
    }
}
