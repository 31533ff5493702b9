//! A job's life after booking: the provider confirms, starts and completes
//! it; the customer may cancel it before it starts. Each step is a system
//! line in the job's chat.

use serde::{Deserialize, Serialize};

/// Where a job stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Booked by the customer, not yet confirmed by the provider.
    #[default]
    Booked,
    /// The provider confirmed the booking.
    Confirmed,
    /// The provider started the work.
    InProgress,
    Completed,
    /// The customer cancelled before the work started.
    Cancelled,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Booked => "booked",
            Self::Confirmed => "confirmed",
            Self::InProgress => "in_progress",
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Booked,
            Self::Confirmed,
            Self::InProgress,
            Self::Completed,
            Self::Cancelled,
        ]
        .into_iter()
        .find(|j| j.as_str() == s)
    }

    /// How people read it (the chat header's pill).
    pub fn label(self) -> &'static str {
        match self {
            Self::Booked => "Booked",
            Self::Confirmed => "Confirmed",
            Self::InProgress => "In progress",
            Self::Completed => "Completed",
            Self::Cancelled => "Cancelled",
        }
    }

    /// What the one who took the step did, after their name ("Bob
    /// confirmed the booking").
    pub fn step_words(self) -> &'static str {
        match self {
            Self::Booked => "booked the job",
            Self::Confirmed => "confirmed the booking",
            Self::InProgress => "started the job",
            Self::Completed => "completed the job",
            Self::Cancelled => "cancelled the booking",
        }
    }

    /// How far along the job is: a status is only ever followed by a
    /// further one (a late copy of an earlier step changes nothing).
    pub fn stage(self) -> u8 {
        match self {
            Self::Booked => 0,
            Self::Confirmed => 1,
            Self::InProgress => 2,
            Self::Completed | Self::Cancelled => 3,
        }
    }

    /// The work began (contact masking `until_started` stops here).
    pub fn is_started(self) -> bool {
        matches!(self, Self::InProgress | Self::Completed)
    }

    /// The steps from here, and who takes them: the provider confirms,
    /// starts and completes; the customer cancels before the start.
    pub fn next(self) -> &'static [(JobStatus, crate::model::Role)] {
        use crate::model::Role::{Customer, Provider};
        match self {
            Self::Booked => &[
                (Self::Confirmed, Provider),
                (Self::InProgress, Provider),
                (Self::Cancelled, Customer),
            ],
            Self::Confirmed => &[(Self::InProgress, Provider), (Self::Cancelled, Customer)],
            Self::InProgress => &[(Self::Completed, Provider)],
            Self::Completed | Self::Cancelled => &[],
        }
    }
}

/// A step in a job's life, as a participant asks for it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JobTransition {
    /// `confirmed`, `in_progress`, `completed` or `cancelled`.
    pub to: JobStatus,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Role;

    #[test]
    fn a_job_moves_forward_only_and_each_step_has_one_owner() {
        assert!(
            JobStatus::Booked
                .next()
                .contains(&(JobStatus::Cancelled, Role::Customer))
        );
        assert!(
            !JobStatus::InProgress
                .next()
                .iter()
                .any(|(to, _)| *to == JobStatus::Cancelled)
        );
        assert!(JobStatus::Completed.next().is_empty());
        for s in [
            JobStatus::Booked,
            JobStatus::Confirmed,
            JobStatus::InProgress,
        ] {
            assert!(
                s.next()
                    .iter()
                    .all(|(to, _)| *to != s && *to != JobStatus::Booked)
            );
            assert_eq!(JobStatus::parse(s.as_str()), Some(s));
        }
        assert!(JobStatus::InProgress.is_started() && !JobStatus::Confirmed.is_started());
    }
}
