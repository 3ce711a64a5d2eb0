//! The event an organiser applies for, as submitted: what it is, where and when, and
//! the facts the risk rules and the leges look at. One type for the form, the rules,
//! the stored application and every view.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::place::Kern;
use super::risk::Alcohol;
use super::time::local_rfc3339;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
/// An event: times are moments (shown in local time), the rest as the organiser
/// gave it.
pub struct Event {
    pub name: String,
    pub description: String,
    pub kern: Kern,
    pub address: String,
    #[serde(with = "local_rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: DateTime<Utc>,
    #[serde(with = "local_rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub ends_at: DateTime<Utc>,
    pub expected_visitors: u32,
    pub amplified_music: bool,
    pub max_sound_dba: Option<u32>,
    pub road_closure: bool,
    pub alcohol: Alcohol,
    pub largest_structure_m2: u32,
    pub on_water: bool,
    pub fireworks: bool,
    pub commercial: bool,
    pub non_profit: bool,
}
