//! Contact masking's settings (README "Contact masking").

use super::{ConfigError, var};
use phonenumber::country::Id as Region;

/// When contact details are hidden from the others in a chat.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MaskingPolicy {
    /// Never: messages are delivered as written.
    Off,
    /// Always (the default for a marketplace).
    Always,
    /// Until the chat's job is started by its provider (in progress or
    /// completed): the booking is then the platform's either way.
    UntilStarted,
}

/// `JOBCHAT_CONTACT_MASKING` and `JOBCHAT_PHONE_REGION`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MaskingConfig {
    pub policy: MaskingPolicy,
    /// Where national numbers ("0176 …") are read as dialled: the
    /// deployment's country (ISO 3166 code, default DE).
    pub region: Region,
}

impl Default for MaskingConfig {
    fn default() -> Self {
        Self {
            policy: MaskingPolicy::Always,
            region: Region::DE,
        }
    }
}

impl MaskingConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        let policy = match var("JOBCHAT_CONTACT_MASKING").as_deref() {
            None | Some("always") => MaskingPolicy::Always,
            Some("off") => MaskingPolicy::Off,
            Some("until_started") => MaskingPolicy::UntilStarted,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "JOBCHAT_CONTACT_MASKING",
                    reason: format!("{other:?} (use always, until_started or off)"),
                });
            }
        };
        let region = match var("JOBCHAT_PHONE_REGION") {
            None => Region::DE,
            Some(code) => code
                .trim()
                .to_uppercase()
                .parse()
                .map_err(|_| ConfigError::Invalid {
                    name: "JOBCHAT_PHONE_REGION",
                    reason: format!("{code:?} is not a country code (DE, AT, GB, US…)"),
                })?,
        };
        Ok(Self { policy, region })
    }
}
