//! Where in the municipality an event or activity takes place: one of its kernen
//! (the villages) or the countryside around them.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Kern {
    Dronten,
    Biddinghuizen,
    Swifterbant,
    Buitengebied,
}

impl Kern {
    pub const ALL: [Kern; 4] = [
        Kern::Dronten,
        Kern::Biddinghuizen,
        Kern::Swifterbant,
        Kern::Buitengebied,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kern::Dronten => "dronten",
            Kern::Biddinghuizen => "biddinghuizen",
            Kern::Swifterbant => "swifterbant",
            Kern::Buitengebied => "buitengebied",
        }
    }

    pub fn parse(s: &str) -> Option<Kern> {
        Kern::ALL.into_iter().find(|k| k.as_str() == s)
    }
}
