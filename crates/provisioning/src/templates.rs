//! Chat names. An organisation may change the templates (DESIGN §4); the
//! defaults are the names the reference manual shows.

/// Templates with `{class}`, `{subject}` and `{group}` placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameTemplates {
    pub staff_room: String,
    pub class: String,
    pub parents: String,
    pub subject: String,
    /// A subject taught to one group of a class.
    pub subject_group: String,
}

impl Default for NameTemplates {
    fn default() -> Self {
        NameTemplates {
            staff_room: "Учительская".to_owned(),
            class: "{class} класс".to_owned(),
            parents: "Родители {class}".to_owned(),
            subject: "{subject} {class}".to_owned(),
            subject_group: "{subject} {class}, группа {group}".to_owned(),
        }
    }
}

impl NameTemplates {
    pub fn staff_room_name(&self) -> String {
        render(&self.staff_room, &[])
    }

    pub fn class_chat_name(&self, class: &str) -> String {
        render(&self.class, &[("class", class)])
    }

    pub fn parents_chat_name(&self, class: &str) -> String {
        render(&self.parents, &[("class", class)])
    }

    /// A section without a class (a club) renders with an empty `{class}`, which
    /// [`render`] tidies away: «Робототехника», «Робототехника, группа 2».
    pub fn subject_chat_name(&self, subject: &str, class: Option<&str>, group: Option<&str>) -> String {
        let class = class.unwrap_or("");
        match group {
            Some(group) => render(&self.subject_group, &[("subject", subject), ("class", class), ("group", group)]),
            None => render(&self.subject, &[("subject", subject), ("class", class)]),
        }
    }
}

/// Fills `{name}` placeholders from `values`, leaving unknown ones as written so
/// a typo in a template shows in the chat name instead of vanishing. Then tidies
/// the spacing an empty value leaves behind («Математика , группа 1» →
/// «Математика, группа 1»).
pub fn render(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let filled = after.find('}').and_then(|close| {
            let name = &after[..close];
            values.iter().find(|(key, _)| *key == name).map(|(_, value)| (*value, close))
        });
        match filled {
            Some((value, close)) => {
                out.push_str(value);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    tidy(&out)
}

fn tidy(text: &str) -> String {
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out = String::with_capacity(collapsed.len());
    for c in collapsed.chars() {
        if matches!(c, ',' | '.' | ';' | ':' | ')') && out.ends_with(' ') {
            out.pop();
        }
        out.push(c);
    }
    out.trim_matches(|c: char| c.is_whitespace() || c == ',').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_manual() {
        let t = NameTemplates::default();
        assert_eq!(t.staff_room_name(), "Учительская");
        assert_eq!(t.class_chat_name("5А"), "5А класс");
        assert_eq!(t.parents_chat_name("10 Физмат"), "Родители 10 Физмат");
        assert_eq!(t.subject_chat_name("Математика", Some("5А"), None), "Математика 5А");
        assert_eq!(t.subject_chat_name("Английский язык", Some("5А"), Some("1")), "Английский язык 5А, группа 1");
    }

    #[test]
    fn a_section_without_a_class_is_named_by_its_subject() {
        let t = NameTemplates::default();
        assert_eq!(t.subject_chat_name("Робототехника", None, None), "Робототехника");
        assert_eq!(t.subject_chat_name("Робототехника", None, Some("2")), "Робототехника, группа 2");
    }

    #[test]
    fn unknown_placeholders_stay_visible() {
        assert_eq!(render("{clas} класс", &[("class", "5А")]), "{clas} класс");
        assert_eq!(render("{class", &[("class", "5А")]), "{class");
    }

    #[test]
    fn an_organisation_can_change_a_template() {
        let t = NameTemplates { class: "Класс {class}".to_owned(), ..NameTemplates::default() };
        assert_eq!(t.class_chat_name("7Б"), "Класс 7Б");
    }
}
