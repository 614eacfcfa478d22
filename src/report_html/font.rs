//! The font chart text is measured with: DejaVu Sans cut down to the characters the charts
//! print, built into the binary, so plotters needs no system font library nor any font
//! installed (fixtures/fonts/README.md says how the file was made).

use std::sync::Once;

use plotters::style::{FontStyle, register_font};

/// The family plotters is asked for, written as is into each SVG `font-family`: a viewer with
/// DejaVu Sans draws the text with the metrics the layout used; any other, its sans-serif.
pub(super) const FAMILY: &str = "DejaVu Sans, sans-serif";

static DEJAVU_SANS: &[u8] = include_bytes!("../../fixtures/fonts/DejaVuSans-subset.ttf");

/// Registers the font with plotters, once per process; before any chart is drawn.
pub(super) fn register() {
    static REGISTERED: Once = Once::new();
    REGISTERED.call_once(|| {
        let registered = register_font(FAMILY, FontStyle::Normal, DEJAVU_SANS).is_ok();
        assert!(registered, "the built-in font is a valid TrueType file");
    });
}
