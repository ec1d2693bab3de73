//! Notice and public-statement templates: shipped defaults, each replaced by a file of the same
//! name in the data directory's `templates/` folder. HTML templates are autoescaped, and
//! Markdown ones escape free text (`markdown`).

use std::path::Path;

use serde::Serialize;

use crate::error::{Error, Result};

/// The templates and their shipped text.
const DEFAULTS: [(&str, &str); 5] = [
    (
        "notice_subject.txt",
        include_str!("../templates/notice_subject.txt"),
    ),
    ("notice.txt", include_str!("../templates/notice.txt")),
    ("notice.html", include_str!("../templates/notice.html")),
    ("public.md", include_str!("../templates/public.md")),
    ("public.html", include_str!("../templates/public.html")),
];

/// A notice's three rendered parts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NoticeText {
    /// Subject line (one line).
    pub subject: String,
    /// Plain text.
    pub text: String,
    /// HTML.
    pub html: String,
}

/// The loaded templates, ready to render many notices.
pub struct Templates {
    environment: minijinja::Environment<'static>,
    /// Which templates came from the data directory.
    pub overridden: Vec<String>,
}

fn template_error(name: &str, error: impl std::fmt::Display) -> Error {
    Error::Template {
        name: name.to_owned(),
        message: error.to_string(),
    }
}

impl Templates {
    /// Loads the templates, preferring `dir/NAME` over the shipped text for each.
    pub fn load(dir: Option<&Path>) -> Result<Self> {
        let mut environment = minijinja::Environment::new();
        environment.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        crate::markdown::configure(&mut environment);
        let mut overridden = Vec::new();
        for (name, shipped) in DEFAULTS {
            let path = dir.map(|dir| dir.join(name));
            let source = match path.filter(|path| path.is_file()) {
                Some(path) => {
                    overridden.push(name.to_owned());
                    std::fs::read_to_string(&path)
                        .map_err(|error| template_error(&path.display().to_string(), error))?
                }
                None => shipped.to_owned(),
            };
            environment
                .add_template_owned(name, source)
                .map_err(|error| template_error(name, error))?;
        }
        Ok(Templates {
            environment,
            overridden,
        })
    }

    fn render(&self, name: &str, model: &impl Serialize) -> Result<String> {
        self.environment
            .get_template(name)
            .and_then(|template| template.render(minijinja::value::Serde(model)))
            .map_err(|error| template_error(name, format!("{error:#}")))
    }

    /// Renders a notice: subject, text and HTML.
    pub fn notice(&self, model: &impl Serialize) -> Result<NoticeText> {
        let subject = self.render("notice_subject.txt", model)?;
        Ok(NoticeText {
            // A subject is one line, whatever the template or the data.
            subject: subject.split_whitespace().collect::<Vec<_>>().join(" "),
            text: self.render("notice.txt", model)?,
            html: self.render("notice.html", model)?,
        })
    }

    /// Renders the public statement as `md` or `html`.
    pub fn public(&self, model: &impl Serialize, html: bool) -> Result<String> {
        self.render(if html { "public.html" } else { "public.md" }, model)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(summary: &str) -> serde_json::Value {
        serde_json::json!({
            "organisation": "Example Party",
            "dpo": { "name": "DPO", "email": "dpo@example.org" },
            "regulator": "Information Commissioner's Office (ICO)",
            "greeting_name": "Zoë",
            "incident": { "supplier_words": "Mailing House", "summary": summary, "aware_day": "29 October 2021", "in_house": false },
            "people": [{ "reference": "M2", "first_name": "Zoë", "held_words": "your name and email address", "special": null }],
            "consequences": ["emails that pretend to come from us"],
            "measures": ["we reported it to the ICO"],
        })
    }

    #[test]
    fn the_shipped_notice_says_which_data_and_escapes_html() {
        let templates = Templates::load(None).unwrap();
        let notice = templates.notice(&model("<script>alert(1)</script>")).unwrap();
        assert_eq!(
            notice.subject,
            "Example Party: a data incident at Mailing House that affects you"
        );
        assert!(notice.text.contains("Dear Zoë,"));
        assert!(
            notice.text.contains("held your name and email address."),
            "{}",
            notice.text
        );
        assert!(notice.text.contains("<script>"), "plain text is not escaped");
        assert!(!notice.html.contains("<script>"), "{}", notice.html);
        assert!(notice.html.contains("&lt;script&gt;"));
    }

    #[test]
    fn a_template_in_the_data_directory_replaces_the_shipped_one() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("notice_subject.txt"),
            "Important:\n{{ organisation }}",
        )
        .unwrap();
        let templates = Templates::load(Some(dir.path())).unwrap();
        assert_eq!(templates.overridden, ["notice_subject.txt"]);
        assert_eq!(
            templates.notice(&model("x")).unwrap().subject,
            "Important: Example Party"
        );
        std::fs::write(dir.path().join("notice.txt"), "{{ no_such_variable }}").unwrap();
        let broken = Templates::load(Some(dir.path()))
            .unwrap()
            .notice(&model("x"))
            .unwrap_err();
        assert!(broken.to_string().contains("notice.txt"), "{broken}");
        std::fs::write(dir.path().join("notice.txt"), "{% if %}").unwrap();
        assert!(Templates::load(Some(dir.path())).is_err());
    }
}
