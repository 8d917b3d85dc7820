//! A posted form's fields as the service's change types want them: a field left out of the
//! form is a value left as it is. A check box is sent only when ticked, so each form names its
//! check boxes with a hidden `has_<name>` field: then a missing box is "off", not "unchanged".

use std::collections::HashMap;

use altimail_admin::AdminError;

/// The fields of one posted form.
pub(crate) struct Fields(pub(crate) HashMap<String, String>);

impl Fields {
    /// A text field, as typed.
    pub(crate) fn text(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }

    /// A text field with the spaces around it removed.
    pub(crate) fn trimmed(&self, name: &str) -> Option<String> {
        self.0.get(name).map(|s| s.trim().to_owned())
    }

    /// A text field that changes something only when filled in (a new password).
    pub(crate) fn filled(&self, name: &str) -> Option<String> {
        self.text(name).filter(|s| !s.is_empty())
    }

    /// A check box the form has (see the module's doc).
    pub(crate) fn flag(&self, name: &str) -> Option<bool> {
        self.0.contains_key(&format!("has_{name}")).then(|| self.0.contains_key(name))
    }

    /// A whole number; an empty field leaves the value as it is.
    pub(crate) fn number(&self, name: &str, what: &str) -> Result<Option<i64>, AdminError> {
        match self.0.get(name).map(|s| s.trim()) {
            None | Some("") => Ok(None),
            Some(s) => {
                s.parse().map(Some).map_err(|_| AdminError::Invalid(format!("{what}: {s:?} is not a whole number")))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Fields {
        Fields(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect())
    }

    #[test]
    fn check_boxes_are_off_only_when_the_form_has_them() {
        let f = fields(&[("has_active", "1"), ("has_greylisting", "1"), ("greylisting", "on")]);
        assert_eq!(f.flag("active"), Some(false));
        assert_eq!(f.flag("greylisting"), Some(true));
        assert_eq!(f.flag("dkim_sign"), None);
    }

    #[test]
    fn numbers_and_texts() {
        let f = fields(&[("quota", " 100 "), ("empty", ""), ("bad", "ten"), ("password", "")]);
        assert_eq!(f.number("quota", "the quota").unwrap(), Some(100));
        assert_eq!(f.number("empty", "x").unwrap(), None);
        assert_eq!(f.number("missing", "x").unwrap(), None);
        assert!(f.number("bad", "the quota").unwrap_err().to_string().contains("the quota"));
        assert_eq!(f.filled("password"), None);
        assert_eq!(f.text("password"), Some(String::new()));
    }
}
