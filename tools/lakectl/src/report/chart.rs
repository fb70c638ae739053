//! The report's charts: stacked bars drawn by plotters into an SVG string.
//!
//! Categories sit at whole numbers of a continuous axis (`-0.5..n-0.5`), so each bar is a
//! rectangle around its category and each category gets exactly one tick label.

use plotters::prelude::*;

/// One colour of a stacked chart: a value per category.
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub values: Vec<f64>,
    pub color: RGBColor,
}

/// Colour-blind-friendly colours (Okabe and Ito), picked by index.
const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(213, 94, 0),
    RGBColor(204, 121, 167),
    RGBColor(0, 158, 115),
    RGBColor(240, 228, 66),
    RGBColor(100, 100, 100),
];

impl Series {
    pub fn new(name: &str, values: Vec<f64>, color: usize) -> Self {
        Series {
            name: name.to_owned(),
            values,
            color: PALETTE[color % PALETTE.len()],
        }
    }
}

const WIDTH: u32 = 960;
const FONT: &str = "sans-serif";

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// The top of the value axis: the tallest stack and `headroom` (room for the legend), at least 1.
fn axis_max(categories: usize, series: &[Series], headroom: f64) -> f64 {
    let tallest = (0..categories)
        .map(|i| {
            series
                .iter()
                .map(|s| s.values.get(i).copied().unwrap_or(0.0).max(0.0))
                .sum::<f64>()
        })
        .fold(0.0, f64::max);
    (tallest * headroom).max(1.0)
}

/// The label of the category nearest `at`, or nothing between categories.
fn label_at(labels: &[String], at: f64) -> String {
    let nearest = at.round();
    if (at - nearest).abs() > 0.01 || nearest < 0.0 {
        return String::new();
    }
    labels.get(nearest as usize).cloned().unwrap_or_default()
}

/// Rectangles of stacked series: for each category, the series' values one on another.
fn stacks(series: &[Series], categories: usize) -> Vec<Vec<(usize, f64, f64)>> {
    let mut base = vec![0.0; categories];
    series
        .iter()
        .map(|s| {
            s.values
                .iter()
                .enumerate()
                .take(categories)
                .filter(|(_, v)| **v > 0.0)
                .map(|(i, v)| {
                    let bottom = base[i];
                    base[i] += v;
                    (i, bottom, bottom + v)
                })
                .collect()
        })
        .collect()
}

/// Vertical stacked columns, one per category (for example the hours of a day).
///
/// # Errors
/// A drawing error, as text.
pub fn columns(categories: &[String], series: &[Series], x_desc: &str, y_desc: &str) -> Result<String, String> {
    let n = categories.len().max(1);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, 400)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(72)
            .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), 0f64..axis_max(n, series, 1.2))
            .map_err(err)?;
        let label = |x: &f64| label_at(categories, *x);
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n)
            .x_label_formatter(&label)
            .y_label_formatter(&|y| format!("{y}"))
            .x_desc(x_desc)
            .y_desc(y_desc)
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 16))
            .draw()
            .map_err(err)?;
        for (s, rects) in series.iter().zip(stacks(series, n)) {
            let color = s.color;
            chart
                .draw_series(rects.into_iter().map(|(i, bottom, top)| {
                    let x = i as f64;
                    Rectangle::new([(x - 0.4, bottom), (x + 0.4, top)], color.filled())
                }))
                .map_err(err)?
                .label(s.name.as_str())
                .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 12, y + 6)], color.filled()));
        }
        legend(&mut chart)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// Horizontal stacked bars, one per category, the first category at the top.
///
/// # Errors
/// A drawing error, as text.
pub fn bars(categories: &[String], series: &[Series], x_desc: &str, y_desc: &str) -> Result<String, String> {
    let n = categories.len().max(1);
    // The first category at the top: category i sits at y = n - 1 - i.
    let flipped: Vec<String> = categories.iter().rev().cloned().collect();
    let longest = categories.iter().map(|c| c.chars().count()).max().unwrap_or(0);
    let label_area = (longest as u32 * 7 + 16).clamp(60, 300);
    let height = 110 + 30 * n as u32 + 40;
    // The legend sits at the upper right: leave the bars the width it does not take.
    let legend_px = 48.0 + 8.0 * series.iter().map(|s| s.name.chars().count()).max().unwrap_or(0) as f64;
    let plot_px = f64::from(WIDTH - label_area - 80);
    let headroom = 1.0 / (1.0 - (legend_px / plot_px).min(0.5));
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(label_area + 24)
            .build_cartesian_2d(0f64..axis_max(n, series, headroom), -0.5f64..(n as f64 - 0.5))
            .map_err(err)?;
        let label = |y: &f64| label_at(&flipped, *y);
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(n)
            .y_label_formatter(&label)
            .x_label_formatter(&|x| format!("{x}"))
            .x_desc(x_desc)
            .y_desc(y_desc)
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 16))
            .draw()
            .map_err(err)?;
        for (s, rects) in series.iter().zip(stacks(series, n)) {
            let color = s.color;
            chart
                .draw_series(rects.into_iter().map(|(i, left, right)| {
                    let y = (n - 1 - i) as f64;
                    Rectangle::new([(left, y - 0.35), (right, y + 0.35)], color.filled())
                }))
                .map_err(err)?
                .label(s.name.as_str())
                .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 12, y + 6)], color.filled()));
        }
        legend(&mut chart)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

fn legend<'a, DB: DrawingBackend + 'a>(
    chart: &mut ChartContext<
        'a,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
) -> Result<(), String> {
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .label_font((FONT, 15))
        .draw()
        .map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn category_labels_sit_on_whole_numbers_only() {
        let labels = ["a".to_owned(), "b".to_owned()];
        assert_eq!(label_at(&labels, 1.0), "b");
        assert_eq!(label_at(&labels, 0.5), "");
        assert_eq!(label_at(&labels, 2.0), "");
        assert_eq!(label_at(&labels, -1.0), "");
    }

    #[test]
    fn stacks_put_each_series_on_the_ones_before() {
        let series = [
            Series::new("x", vec![1.0, 0.0, 2.0], 0),
            Series::new("y", vec![3.0, 4.0, 0.0], 1),
        ];
        let s = stacks(&series, 3);
        assert_eq!(s[0], [(0, 0.0, 1.0), (2, 0.0, 2.0)]);
        assert_eq!(s[1], [(0, 1.0, 4.0), (1, 0.0, 4.0)]);
        assert_eq!(axis_max(3, &series, 1.5), 6.0);
    }

    #[test]
    fn charts_are_svg_with_one_rectangle_per_value_and_the_axis_titles() {
        let hours: Vec<String> = (0..24).map(|h| format!("{h:02}")).collect();
        let mut values = vec![0.0; 24];
        values[9] = 5.0;
        values[10] = 7.0;
        let svg = columns(
            &hours,
            &[Series::new("VOICE", values, 0)],
            "hour (UTC)",
            "contacts (count)",
        )
        .unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..40]);
        assert!(svg.contains("hour (UTC)") && svg.contains("contacts (count)") && svg.contains("VOICE"));
        let texts: Vec<&str> = svg.lines().map(str::trim).collect();
        assert!(hours.iter().all(|h| texts.contains(&h.as_str())), "every hour labelled");
        let svg = bars(&["q&a".to_owned()], &[Series::new("talk", vec![3.0], 0)], "s", "queue").unwrap();
        assert!(svg.contains("q&amp;a"), "text is escaped");
    }
}
