//! The report's page: well-formed XHTML (so tests read it as XML), inline CSS, no script, no URL.

use std::fmt::Write;

/// A table of exact numbers under a chart.
#[derive(Debug, Clone)]
pub struct Table {
    pub head: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(head: Vec<String>) -> Self {
        Table { head, rows: Vec::new() }
    }
}

/// What a view shows.
#[derive(Debug, Clone)]
pub enum Body {
    /// Charts (SVG) and the table of their numbers.
    Data { charts: Vec<String>, table: Table },
    /// No data: the sentence says why.
    Empty(String),
    /// Tables the view needs that the catalog lacks.
    Missing(Vec<String>),
}

/// One titled view of the page.
#[derive(Debug, Clone)]
pub struct View {
    pub id: String,
    pub title: String,
    /// Which days or months the figures cover, and where they come from.
    pub window: String,
    /// What the chart shows.
    pub source: String,
    pub body: Body,
}

impl View {
    pub fn new(id: &str, title: &str, window: String) -> Self {
        View {
            id: id.to_owned(),
            title: title.to_owned(),
            window,
            source: String::new(),
            body: Body::Empty(String::new()),
        }
    }

    pub fn has_data(&self) -> bool {
        matches!(self.body, Body::Data { .. })
    }
}

/// A number as the tables show it: whole numbers without decimals, others as computed.
pub fn num(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

/// An optional number; a missing one is shown as a dash.
pub fn opt(value: Option<f64>) -> String {
    value.map_or_else(|| "\u{2013}".to_owned(), num)
}

/// Text escaped for XHTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const CSS: &str = "
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif; margin: 0;
       color: #1d2733; background: #f4f6f8; }
header { background: #1d2733; color: #fff; padding: 20px 32px; }
header h1 { margin: 0 0 6px; font-size: 24px; }
header p { margin: 2px 0; color: #c9d3dd; font-size: 14px; }
main { max-width: 1000px; margin: 0 auto; padding: 16px; }
nav ol { columns: 2; font-size: 14px; }
nav a, nav a:visited { color: #0b5cad; }
section { background: #fff; border-radius: 6px; padding: 16px 20px; margin: 16px 0;
          box-shadow: 0 1px 3px rgba(0,0,0,.12); }
section h2 { margin: 0 0 4px; font-size: 19px; }
p.window, p.source { margin: 2px 0; font-size: 13px; color: #52606d; }
figure { margin: 12px 0; }
figure svg { max-width: 100%; height: auto; display: block; }
p.empty, .missing p { font-size: 15px; padding: 12px; background: #fff8e1; border-left: 4px solid #e69f00; }
table { border-collapse: collapse; font-size: 13px; margin-top: 8px; }
th, td { border: 1px solid #d5dbe1; padding: 3px 8px; }
th { background: #eef1f4; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
footer { font-size: 12px; color: #52606d; padding: 8px 32px 24px; }
";

/// What the page header says.
pub struct PageHead<'a> {
    pub database: &'a str,
    pub window: &'a str,
    pub generated: &'a str,
    pub missing: &'a [String],
    pub views: &'a [View],
}

fn is_number(cell: &str) -> bool {
    !cell.is_empty() && cell.parse::<f64>().is_ok()
}

fn render_table(out: &mut String, id: &str, table: &Table) {
    let _ = write!(out, "<table class=\"data\" id=\"{}-data\"><thead><tr>", escape(id));
    for h in &table.head {
        let _ = write!(out, "<th scope=\"col\">{}</th>", escape(h));
    }
    out.push_str("</tr></thead><tbody>");
    for row in &table.rows {
        out.push_str("<tr>");
        for cell in row {
            let class = if is_number(cell) { " class=\"n\"" } else { "" };
            let _ = write!(out, "<td{class}>{}</td>", escape(cell));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>\n");
}

fn render_view(out: &mut String, number: usize, view: &View) {
    let id = escape(&view.id);
    let _ = writeln!(
        out,
        "<section class=\"view\" id=\"{id}\"><h2>{number}. {}</h2>",
        escape(&view.title)
    );
    let _ = writeln!(out, "<p class=\"window\">{}</p>", escape(&view.window));
    if !view.source.is_empty() {
        let _ = writeln!(out, "<p class=\"source\">{}</p>", escape(&view.source));
    }
    match &view.body {
        Body::Data { charts, table } => {
            for svg in charts {
                let _ = writeln!(out, "<figure class=\"chart\">{svg}</figure>");
            }
            render_table(out, &view.id, table);
        }
        Body::Empty(sentence) => {
            let _ = writeln!(out, "<p class=\"empty\">{}</p>", escape(sentence));
        }
        Body::Missing(tables) => {
            let _ = writeln!(
                out,
                "<p class=\"empty\">Not shown: the catalog has no table {}.</p>",
                escape(&tables.join(", "))
            );
        }
    }
    out.push_str("</section>\n");
}

/// The whole page.
pub fn page(head: &PageHead<'_>) -> String {
    let mut out = String::with_capacity(256 * 1024);
    out.push_str("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n");
    out.push_str(
        "<meta charset=\"utf-8\"/>\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n",
    );
    let _ = writeln!(out, "<title>connect-lake report: {}</title>", escape(head.window));
    let _ = writeln!(out, "<style>{CSS}</style>\n</head>\n<body>");
    let _ = writeln!(
        out,
        "<header><h1>The contact center at a glance</h1>\
         <p id=\"window\">Window: {}</p><p>Glue database {} &#183; generated {} by lakectl report</p></header>",
        escape(head.window),
        escape(head.database),
        escape(head.generated)
    );
    out.push_str("<main>\n<nav><ol>");
    for view in head.views {
        let _ = write!(
            out,
            "<li><a href=\"#{}\">{}</a></li>",
            escape(&view.id),
            escape(&view.title)
        );
    }
    out.push_str("</ol></nav>\n");
    if !head.missing.is_empty() {
        out.push_str("<section class=\"missing\" id=\"missing-tables\"><h2>Missing tables</h2><p>");
        out.push_str("The catalog does not have these tables, so the views that read them are empty: ");
        let names: Vec<String> = head
            .missing
            .iter()
            .map(|t| format!("<code>{}</code>", escape(t)))
            .collect();
        out.push_str(&names.join(", "));
        out.push_str(".</p></section>\n");
    }
    for (i, view) in head.views.iter().enumerate() {
        render_view(&mut out, i + 1, view);
    }
    out.push_str(
        "</main>\n<footer>Figures come from template.yaml's Athena named queries where one exists \
         (average-handle-time-by-queue, abandonment-by-queue, customer-sentiment-by-agent, \
         fraud-decisions-by-level), run by lakectl's SQL engine over the Glue catalog; contacts per hour and \
         agent occupancy from lakectl's own SQL. Times are UTC.</footer>\n</body>\n</html>\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_text_are_shown_exactly_and_escaped() {
        assert_eq!(num(200.0), "200");
        assert_eq!(num(12.5), "12.5");
        assert_eq!(opt(None), "\u{2013}");
        assert_eq!(escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
    }

    #[test]
    fn a_page_has_no_script_and_no_url_and_says_what_is_missing() {
        let mut empty = View::new("x", "X & Y", "Window: 2026-03-08".to_owned());
        empty.body = Body::Missing(vec!["connect_metrics".to_owned()]);
        let page = page(&PageHead {
            database: "db",
            window: "2026-03-08",
            generated: "now",
            missing: &["connect_metrics".to_owned()],
            views: &[empty],
        });
        assert!(!page.contains("<script"));
        let without_namespaces = page.replace("xmlns=\"http://www.w3.org/1999/xhtml\"", "");
        assert!(!without_namespaces.contains("http"), "no URL but the XHTML namespace");
        assert!(page.contains("X &amp; Y") && page.contains("no table connect_metrics"));
    }
}
