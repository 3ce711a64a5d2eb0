//! The coverage (dekkingsgraad) the council asks for, per year: the coordination
//! cost, the leges imposed, refunded and net, the coverage as a percentage, a chart
//! of it against the 100 % that Gemeentewet art. 229b does not allow to exceed (drawn
//! on the server as SVG, the figures beside it as a table), the breakdown per
//! category, and the CSV of the year's applications.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::api::admin::csv_download;
use crate::api::state::AppState;
use crate::app::export::CsvDialect;
use crate::app::staff_permits;
use crate::domain::risk::Category;
use crate::dutch::{category_text, euro};
use crate::web::cookies;
use crate::web::{Page, html};

use super::session::StaffSession;

#[derive(Deserialize, Default)]
pub struct YearFilter {
    jaar: Option<String>,
    dialect: Option<String>,
}

impl YearFilter {
    fn year(&self) -> Option<i32> {
        self.jaar
            .as_deref()
            .and_then(crate::domain::formats::Year::parse)
            .map(crate::domain::formats::Year::get)
    }
}

#[derive(Template)]
#[template(path = "staff_coverage.html")]
struct CoveragePage {
    page: Page,
    csrf: String,
    staff: String,
    year: i32,
    rows: Vec<(&'static str, String)>,
    percentage: String,
    over_recovery: bool,
    voided: i64,
    categories: Vec<(&'static str, i64, String)>,
    /// The bar's width in the chart's units (0–300; 100 % is 200).
    bar: i64,
}

/// The chart's scale: 100 % is 200 units wide; the bar stops at 150 %.
fn bar_width(coverage_bp: i64) -> i64 {
    (coverage_bp.clamp(0, 15_000) * 200) / 10_000
}

/// `47,83 %` from basis points.
fn percentage(bp: i64) -> String {
    format!("{},{:02} %", bp / 100, bp % 100)
}

pub async fn page(
    StaffSession(staff): StaffSession,
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(filter): Query<YearFilter>,
) -> Response {
    let report = match staff_permits::coverage_report(&state, filter.year()).await {
        Ok(report) => report,
        Err(e) => return crate::web::error_page(&e.into()),
    };
    let (csrf, fresh) = cookies::csrf_token(&headers);
    let page = CoveragePage {
        page: Page::new(&format!("Dekkingsgraad {}", report.year)),
        csrf: csrf.clone(),
        staff: staff.id,
        year: report.year,
        rows: vec![
            // Names a finance officer can sign: leges are worked out when an
            // application comes in, lowered when it is withdrawn, and part of them
            // still waits for a decision (none of it is money received yet).
            (
                "Begrote kosten evenementencoördinatie",
                euro(report.cost_cents),
            ),
            (
                "Berekende leges (bij indiening)",
                euro(report.imposed_cents),
            ),
            (
                "Minder: korting bij intrekking",
                euro(report.refunded_cents),
            ),
            ("Netto leges", euro(report.net_cents)),
            (
                "Waarvan van aanvragen nog zonder besluit",
                euro(report.open_cents),
            ),
        ],
        percentage: percentage(report.coverage_bp),
        over_recovery: report.over_recovery,
        voided: report.voided_count,
        categories: Category::ALL
            .iter()
            .filter_map(|c| {
                let figures = report.by_category.get(c.as_str())?;
                Some((category_text(*c), figures.count, euro(figures.net_cents)))
            })
            .collect(),
        bar: bar_width(report.coverage_bp),
    };
    let mut response = html(page.render()).into_response();
    if fresh {
        cookies::remember_csrf(&mut response, &headers, &csrf);
    }
    response
}

/// The year's applications as CSV, recorded in the audit as the API's export is.
pub async fn csv(
    StaffSession(staff): StaffSession,
    State(state): State<AppState>,
    Query(filter): Query<YearFilter>,
) -> Response {
    let dialect = match filter.dialect.as_deref() {
        Some("excel_nl") => CsvDialect::ExcelNl,
        _ => CsvDialect::Rfc4180,
    };
    match staff_permits::export(&state, &staff.id, filter.year(), dialect).await {
        Ok(export) => csv_download(export),
        Err(e) => crate::web::error_page(&e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chart_scales_coverage_with_100_percent_at_200_units() {
        assert_eq!(bar_width(478), 9);
        assert_eq!(bar_width(10_000), 200);
        assert_eq!(bar_width(25_000), 300, "the bar stops at 150 %");
        assert_eq!(bar_width(-5), 0);
        assert_eq!(percentage(478), "4,78 %");
        assert_eq!(percentage(10_000), "100,00 %");
    }
}
