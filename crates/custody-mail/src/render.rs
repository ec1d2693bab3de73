//! Notice and public-statement templates: shipped defaults, each replaced by a file of the same
//! name in the data directory's `templates/` folder. A notice template may also be given for one
//! jurisdiction, its code before the extension (`notice.US-CA.txt`, `notice.FR.html`,
//! `notice_subject.CA-QC.txt`): people there get it (a region's, else their country's), in its
//! language. HTML templates are autoescaped, and Markdown ones escape free text (`markdown`).

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
    /// The places with templates of their own (`US-CA`, `FR`).
    pub places: Vec<String>,
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
        let mut places = Vec::new();
        if let Some(dir) = dir {
            for (name, path) in jurisdiction_templates(dir)? {
                if let Some(code) = name.split('.').nth(1)
                    && !places.iter().any(|place| place == code)
                {
                    places.push(code.to_owned());
                }
                let source = std::fs::read_to_string(&path)
                    .map_err(|error| template_error(&path.display().to_string(), error))?;
                environment
                    .add_template_owned(name.clone(), source)
                    .map_err(|error| template_error(&name, error))?;
                overridden.push(name);
            }
        }
        Ok(Templates {
            environment,
            overridden,
            places,
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
        self.notice_for(None, model)
    }

    /// Renders a notice for people in `place` (an ISO 3166-1 or 3166-2 code): each part from the
    /// place's own template where the data directory gives one (a region's, else its country's),
    /// else the general one.
    pub fn notice_for(&self, place: Option<&str>, model: &impl Serialize) -> Result<NoticeText> {
        let subject = self.render(&self.chosen("notice_subject", "txt", place), model)?;
        Ok(NoticeText {
            // A subject is one line, whatever the template or the data.
            subject: subject.split_whitespace().collect::<Vec<_>>().join(" "),
            text: self.render(&self.chosen("notice", "txt", place), model)?,
            html: self.render(&self.chosen("notice", "html", place), model)?,
        })
    }

    /// The template `stem.ext` for `place`: `stem.US-CA.ext`, else `stem.US.ext`, else `stem.ext`.
    fn chosen(&self, stem: &str, ext: &str, place: Option<&str>) -> String {
        let country = place
            .and_then(|code| code.split_once('-'))
            .map(|(country, _)| country);
        place
            .into_iter()
            .chain(country)
            .map(|code| format!("{stem}.{code}.{ext}"))
            .find(|name| self.environment.get_template(name).is_ok())
            .unwrap_or_else(|| format!("{stem}.{ext}"))
    }

    /// Renders the public statement as `md` or `html`.
    pub fn public(&self, model: &impl Serialize, html: bool) -> Result<String> {
        self.render(if html { "public.html" } else { "public.md" }, model)
    }
}

/// The per-jurisdiction notice templates in `dir`: `notice.CODE.txt`, `notice.CODE.html` and
/// `notice_subject.CODE.txt`, CODE an ISO 3166-1 alpha-2 code or one with its ISO 3166-2 region.
fn jurisdiction_templates(dir: &Path) -> Result<Vec<(String, std::path::PathBuf)>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(template_error(&dir.display().to_string(), error)),
    };
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|error| template_error(&dir.display().to_string(), error))?;
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        let code = ["notice.", "notice_subject."]
            .iter()
            .find_map(|stem| name.strip_prefix(stem))
            .and_then(|rest| rest.strip_suffix(".txt").or_else(|| rest.strip_suffix(".html")));
        let html_subject = name.starts_with("notice_subject.") && name.ends_with(".html");
        if let Some(code) = code
            && is_place_code(code)
            && !html_subject
            && entry.path().is_file()
        {
            found.push((name, entry.path()));
        }
    }
    found.sort();
    Ok(found)
}

/// `GB`, `US-CA`, `CA-QC`: an ISO 3166-1 alpha-2 code, with an ISO 3166-2 region if any.
fn is_place_code(code: &str) -> bool {
    let (country, region) = code.split_once('-').map_or((code, None), |(c, r)| (c, Some(r)));
    country.len() == 2
        && country.bytes().all(|byte| byte.is_ascii_uppercase())
        && region.is_none_or(|region| {
            (1..=3).contains(&region.len())
                && region
                    .bytes()
                    .all(|byte| byte.is_ascii_uppercase() || byte.is_ascii_digit())
        })
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
            "incident": { "supplier_words": "Mailing House", "summary": summary, "aware_day": "29 October 2021", "in_house": false, "occurred": null },
            "people": [{ "reference": "M2", "first_name": "Zoë", "held_words": "your name and email address", "special": null }],
            "consequences": ["emails that pretend to come from us"],
            "measures": ["we reported it to the ICO"],
            "law": {
                "jurisdiction": "GB", "title": null, "tell_what_happened": true,
                "headings": { "happened": "What happened", "data": "Which of your data",
                    "meaning": "What this could mean for you", "done": "What we have done",
                    "can_do": "What you can do", "contact": "Contact us" },
                "lines": [], "contacts": [], "complain_to": "Information Commissioner's Office (ICO)",
                "citations": [],
            },
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
        std::fs::write(dir.path().join("notice.FR.txt"), "Bonjour {{ greeting_name }}").unwrap();
        std::fs::write(dir.path().join("notice.US-CA.txt"), "Hello, Californian").unwrap();
        std::fs::write(dir.path().join("notice.french.txt"), "not a place").unwrap();
        let templates = Templates::load(Some(dir.path())).unwrap();
        assert_eq!(
            templates.overridden,
            ["notice_subject.txt", "notice.FR.txt", "notice.US-CA.txt"]
        );
        assert_eq!(templates.places, ["FR", "US-CA"]);
        let zoe = model("x");
        assert_eq!(
            templates.notice_for(Some("FR"), &zoe).unwrap().text,
            "Bonjour Zoë"
        );
        assert_eq!(
            templates.notice_for(Some("US-CA"), &zoe).unwrap().text,
            "Hello, Californian"
        );
        // A region with no template of its own takes its country's; a place with none, the general.
        std::fs::write(dir.path().join("notice.US.txt"), "Hello, American").unwrap();
        let templates = Templates::load(Some(dir.path())).unwrap();
        assert_eq!(
            templates.notice_for(Some("US-NY"), &zoe).unwrap().text,
            "Hello, American"
        );
        let general = templates.notice_for(Some("DE"), &zoe).unwrap();
        assert!(general.text.contains("Dear Zoë,"), "{}", general.text);
        assert_eq!(
            general.subject, "Important: Example Party",
            "the subject has no DE template"
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
