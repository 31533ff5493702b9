//! The server's settings a view needs before it asks anything (how long a
//! message may be edited). The server renders them into the page, as it
//! does the signed-in user, so the first frame in the browser and the
//! server's HTML agree and no request is spent on them.

use serde::{Deserialize, Serialize};

/// Id of the script element that carries the settings to the browser.
pub const SCRIPT_ID: &str = "jobchat-settings";

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    /// `JOBCHAT_EDIT_WINDOW_SECS`: how long after sending a message its
    /// sender may still edit it (0: not at all). Deleting has no limit.
    pub edit_window_secs: u32,
    /// `JOBCHAT_FILE_MAX_BYTES`: the largest file one may attach (0: the
    /// page was rendered without the setting; the browser then leaves the
    /// check to the server).
    #[serde(default)]
    pub max_file_bytes: u64,
    /// `JOBCHAT_FILES_PER_MESSAGE`: how many files one message carries.
    #[serde(default)]
    pub files_per_message: u32,
}

impl Settings {
    pub fn edit_window(&self) -> chrono::TimeDelta {
        chrono::TimeDelta::seconds(i64::from(self.edit_window_secs))
    }

    /// JSON for a `<script type="application/json">`: `<` escaped so no
    /// text can close the element.
    pub fn to_script(self) -> String {
        serde_json::to_string(&self)
            .unwrap_or_else(|_| "{}".into())
            .replace('<', "\\u003c")
    }
}

/// The settings: from the server's backend during SSR, from the page's
/// script in the browser. Unknown (a page the server did not render with
/// them): the defaults, which allow no editing.
pub fn current() -> Settings {
    #[cfg(feature = "ssr")]
    {
        leptos::prelude::use_context::<crate::api::BackendHandle>()
            .map(|b| b.settings())
            .unwrap_or_default()
    }
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.get_element_by_id(SCRIPT_ID))
            .and_then(|e| e.text_content())
            .and_then(|t| serde_json::from_str::<Settings>(&t).ok())
            .unwrap_or_default()
    }
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    {
        Settings::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_round_trips() {
        let s = Settings {
            edit_window_secs: 900,
            max_file_bytes: 10,
            files_per_message: 2,
        };
        assert_eq!(
            s.to_script(),
            r#"{"editWindowSecs":900,"maxFileBytes":10,"filesPerMessage":2}"#
        );
        assert_eq!(
            serde_json::from_str::<Settings>(&s.to_script()).expect("json"),
            s
        );
        assert_eq!(s.edit_window(), chrono::TimeDelta::minutes(15));
        assert_eq!(Settings::default().edit_window(), chrono::TimeDelta::zero());
    }
}
