//! Print-ready letters: one PDF of A4 pages, one letter per person, each starting on a new page,
//! after a batch summary page for the print house.
//!
//! The layout is DIN 5008 form B, which fits a DL (110 × 220 mm) or C5/6 envelope with a window
//! on the left (DIN 680: 90 × 45 mm, 20 mm from the left and 15 mm from the bottom) once the
//! A4 sheet is folded in three at the marks: the address field is 85 × 45 mm, 45 mm from the top
//! and 20 mm from the left edge, its first 17.7 mm for the return address, the last 27.3 mm for
//! up to six lines of the recipient's address; the information block (date, references) is
//! 125 mm from the left and 50 mm from the top; fold marks are at 105 and 210 mm, the punch mark
//! at 148.5 mm. Text is 10 pt Helvetica on 25 mm left and 20 mm right margins.

use std::io::Write as _;

use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str};

use crate::winansi::{encode, width};

/// Points per millimetre.
const MM: f32 = 72.0 / 25.4;
/// A4.
const PAGE_WIDTH: f32 = 210.0 * MM;
const PAGE_HEIGHT: f32 = 297.0 * MM;
/// Margins.
const LEFT: f32 = 25.0 * MM;
const RIGHT: f32 = 20.0 * MM;
const TEXT_WIDTH: f32 = PAGE_WIDTH - LEFT - RIGHT;
/// Body text.
const SIZE: f32 = 10.0;
const LEADING: f32 = 12.0;
/// The address zone: 45 + 17.7 mm from the top, six lines of 4.23 mm.
const ADDRESS_TOP: f32 = 62.7 * MM;
const ADDRESS_LINES: usize = 6;
const ADDRESS_PITCH: f32 = 4.23 * MM;
const ADDRESS_WIDTH: f32 = 80.0 * MM;
/// The information block.
const INFO_LEFT: f32 = 125.0 * MM;
const INFO_TOP: f32 = 50.0 * MM;
const INFO_WIDTH: f32 = 65.0 * MM;
/// Where the subject goes on the first page, where text starts on later pages, and where it
/// stops on every page (above the footer).
const SUBJECT_TOP: f32 = 98.5 * MM;
const CONTINUED_TOP: f32 = 25.0 * MM;
const TEXT_BOTTOM: f32 = 277.0 * MM;
const FOOTER_TOP: f32 = 287.0 * MM;

/// One letter to one person.
#[derive(Debug, Clone, Default)]
pub struct Letter {
    /// The recipient's address block, name first (at most six lines are printed).
    pub address: Vec<String>,
    /// The information block: "Date: …", "Our reference: …".
    pub info: Vec<String>,
    /// The subject, in bold above the text.
    pub subject: String,
    /// The text, as in the email's plain-text part: paragraphs, headings in capitals, lines
    /// starting "- " as bullets.
    pub body: String,
}

/// What the batch holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct BatchCounts {
    /// Letters.
    pub letters: usize,
    /// Pages in the file, the summary page included.
    pub pages: usize,
    /// Letters longer than one page.
    pub longer_than_one_page: usize,
}

/// What adding a letter did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Added {
    /// Pages it took.
    pub pages: usize,
    /// Its address had more than six lines, or a line too long for the window, and was cut.
    pub address_cut: bool,
}

/// One run of text on a page.
struct Run {
    bytes: Vec<u8>,
    bold: bool,
    size: f32,
    x: f32,
    top: f32,
}

/// A batch of letters being written.
pub struct LetterBatch {
    pdf: Pdf,
    next: i32,
    tree: Ref,
    regular: Ref,
    bold: Ref,
    summary: Ref,
    pages: Vec<Ref>,
    letterhead: Vec<u8>,
    sender: Vec<u8>,
    counts: BatchCounts,
}

impl LetterBatch {
    /// Starts a batch of letters from `organisation`, with `return_address` (one line) printed
    /// above the recipient's address.
    pub fn new(organisation: &str, return_address: &str) -> Self {
        let mut pdf = Pdf::new();
        let (catalog, tree, regular, bold, summary) =
            (Ref::new(1), Ref::new(2), Ref::new(3), Ref::new(4), Ref::new(5));
        pdf.catalog(catalog).pages(tree);
        pdf.type1_font(regular)
            .base_font(Name(b"Helvetica"))
            .encoding_predefined(Name(b"WinAnsiEncoding"));
        pdf.type1_font(bold)
            .base_font(Name(b"Helvetica-Bold"))
            .encoding_predefined(Name(b"WinAnsiEncoding"));
        LetterBatch {
            pdf,
            next: 6,
            tree,
            regular,
            bold,
            summary,
            pages: vec![summary],
            letterhead: encode(organisation),
            sender: encode(return_address),
            counts: BatchCounts::default(),
        }
    }

    fn fresh(&mut self) -> Ref {
        let id = Ref::new(self.next);
        self.next += 1;
        id
    }

    /// Adds one letter; says how many pages it took and whether its address had to be cut.
    pub fn add(&mut self, letter: &Letter) -> Added {
        self.counts.letters += 1;
        let sequence = self.counts.letters;
        let (pages, address_cut) = lay_out(letter, &self.letterhead, &self.sender);
        let total = pages.len();
        for (index, runs) in pages.into_iter().enumerate() {
            let mut content = Content::new();
            if index == 0 {
                fold_marks(&mut content);
            }
            draw(&mut content, &runs);
            let footer = if total > 1 {
                format!("Page {} of {total}", index + 1)
            } else {
                String::new()
            };
            draw_footer(&mut content, &format!("{sequence:06}"), &footer);
            self.page(content);
        }
        if total > 1 {
            self.counts.longer_than_one_page += 1;
        }
        Added {
            pages: total,
            address_cut,
        }
    }

    fn page(&mut self, content: Content) {
        let (page, stream) = (self.fresh(), self.fresh());
        let data = compress(&content.finish());
        self.pdf.stream(stream, &data).filter(Filter::FlateDecode);
        self.write_page(page, stream);
        self.pages.push(page);
    }

    fn write_page(&mut self, page: Ref, stream: Ref) {
        let mut writer = self.pdf.page(page);
        writer
            .parent(self.tree)
            .media_box(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT))
            .contents(stream);
        writer
            .resources()
            .fonts()
            .pair(Name(b"F1"), self.regular)
            .pair(Name(b"F2"), self.bold);
        writer.finish();
    }

    /// Writes the summary page (first in the file) and returns the PDF and its counts.
    pub fn finish(mut self, title: &str, summary: &[String]) -> (Vec<u8>, BatchCounts) {
        let mut runs = Vec::new();
        let mut top = CONTINUED_TOP;
        for line in wrap(&encode(title), true, 14.0, TEXT_WIDTH) {
            runs.push(Run {
                bytes: line,
                bold: true,
                size: 14.0,
                x: LEFT,
                top,
            });
            top += 18.0;
        }
        top += LEADING;
        for line in summary {
            if line.trim().is_empty() {
                top += LEADING;
                continue;
            }
            for wrapped in wrap(&encode(line), false, SIZE, TEXT_WIDTH) {
                if top > TEXT_BOTTOM {
                    break;
                }
                runs.push(Run {
                    bytes: wrapped,
                    bold: false,
                    size: SIZE,
                    x: LEFT,
                    top,
                });
                top += LEADING;
            }
        }
        let mut content = Content::new();
        draw(&mut content, &runs);
        let stream = self.fresh();
        let data = compress(&content.finish());
        self.pdf.stream(stream, &data).filter(Filter::FlateDecode);
        self.write_page(self.summary, stream);
        self.counts.pages = self.pages.len();
        let count = i32::try_from(self.pages.len()).unwrap_or(i32::MAX);
        self.pdf
            .pages(self.tree)
            .kids(self.pages.iter().copied())
            .count(count);
        let info = self.fresh();
        self.pdf
            .document_info(info)
            .title(pdf_writer::TextStr(title))
            .producer(pdf_writer::TextStr("custody"));
        (self.pdf.finish(), self.counts)
    }
}

/// Deflates a content stream (zlib format, as FlateDecode reads it).
fn compress(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(data);
    encoder.finish().unwrap_or_default()
}

/// The pages of one letter, as runs of text, and whether its address had to be cut.
fn lay_out(letter: &Letter, letterhead: &[u8], sender: &[u8]) -> (Vec<Vec<Run>>, bool) {
    let mut first = vec![
        fitted(letterhead.to_vec(), true, 14.0, LEFT, 20.0 * MM, TEXT_WIDTH),
        fitted(
            sender.to_vec(),
            false,
            7.0,
            LEFT,
            ADDRESS_TOP - 3.0 * MM,
            ADDRESS_WIDTH,
        ),
    ];
    let mut address_cut = letter.address.len() > ADDRESS_LINES;
    for (index, line) in letter.address.iter().take(ADDRESS_LINES).enumerate() {
        let top = ADDRESS_TOP + 3.5 * MM + ADDRESS_PITCH * index as f32;
        let bytes = encode(line);
        let run = fitted(bytes.clone(), false, SIZE, LEFT, top, ADDRESS_WIDTH);
        address_cut |= run.bytes.len() < bytes.len();
        first.push(run);
    }
    for (index, line) in letter.info.iter().enumerate() {
        let top = INFO_TOP + LEADING * index as f32;
        first.push(fitted(encode(line), false, 9.0, INFO_LEFT, top, INFO_WIDTH));
    }
    let mut pages = Vec::new();
    let mut top = SUBJECT_TOP;
    for line in wrap(&encode(&letter.subject), true, SIZE, TEXT_WIDTH) {
        first.push(Run {
            bytes: line,
            bold: true,
            size: SIZE,
            x: LEFT,
            top,
        });
        top += LEADING;
    }
    top += LEADING;
    let mut page = first;
    for line in body_lines(&letter.body) {
        if line.bytes.is_empty() {
            top += LEADING * 0.5;
            continue;
        }
        if top > TEXT_BOTTOM {
            pages.push(std::mem::take(&mut page));
            top = CONTINUED_TOP;
        }
        if line.bullet {
            page.push(Run {
                bytes: b"\x95".to_vec(),
                bold: false,
                size: SIZE,
                x: LEFT + MM,
                top,
            });
        }
        page.push(Run {
            bytes: line.bytes,
            bold: line.bold,
            size: SIZE,
            x: line.x,
            top,
        });
        top += LEADING;
    }
    pages.push(page);
    (pages, address_cut)
}

/// One line of the body, wrapped: an empty one is a paragraph break.
struct BodyLine {
    bytes: Vec<u8>,
    bold: bool,
    x: f32,
    bullet: bool,
}

/// The body's lines, wrapped: headings (a line in capitals) bold, items ("- ") as bullets with
/// a hanging indent.
fn body_lines(body: &str) -> Vec<BodyLine> {
    let mut out: Vec<BodyLine> = Vec::new();
    let indent = 4.0 * MM;
    for source in body.lines() {
        let line = source.trim_end();
        if line.trim().is_empty() {
            if out.last().is_some_and(|last| !last.bytes.is_empty()) {
                out.push(BodyLine {
                    bytes: Vec::new(),
                    bold: false,
                    x: LEFT,
                    bullet: false,
                });
            }
            continue;
        }
        if let Some(item) = line.strip_prefix("- ") {
            for (index, bytes) in wrap(&encode(item), false, SIZE, TEXT_WIDTH - indent)
                .into_iter()
                .enumerate()
            {
                out.push(BodyLine {
                    bytes,
                    bold: false,
                    x: LEFT + indent,
                    bullet: index == 0,
                });
            }
            continue;
        }
        let heading = line.chars().any(char::is_alphabetic)
            && !line.chars().any(char::is_lowercase)
            && line.chars().count() <= 60;
        for bytes in wrap(&encode(line), heading, SIZE, TEXT_WIDTH) {
            out.push(BodyLine {
                bytes,
                bold: heading,
                x: LEFT,
                bullet: false,
            });
        }
    }
    out
}

/// A run that fits `max` points: set smaller, down to 7 pt, when the text is long, then cut.
fn fitted(bytes: Vec<u8>, bold: bool, size: f32, x: f32, top: f32, max: f32) -> Run {
    let natural = text_width(&bytes, bold, size);
    let size = if natural > max {
        (size * max / natural).max(7.0)
    } else {
        size
    };
    let mut bytes = bytes;
    while text_width(&bytes, bold, size) > max && !bytes.is_empty() {
        bytes.pop();
    }
    Run {
        bytes,
        bold,
        size,
        x,
        top,
    }
}

/// Width in points; bold Helvetica is taken as a quarter wider than regular (Helvetica-Bold's
/// AFM widths are up to 25 % wider, for `i`, `j` and `l`), so a bold line measured so never
/// overruns.
fn text_width(bytes: &[u8], bold: bool, size: f32) -> f32 {
    let width = width(bytes) as f32 * size / 1000.0;
    if bold { width * 1.25 } else { width }
}

/// Words of `bytes` wrapped to lines of at most `max` points; a word longer than a line is cut.
fn wrap(bytes: &[u8], bold: bool, size: f32, max: f32) -> Vec<Vec<u8>> {
    let mut lines = Vec::new();
    let mut line: Vec<u8> = Vec::new();
    for word in bytes.split(|byte| *byte == b' ').filter(|word| !word.is_empty()) {
        let mut candidate = line.clone();
        if !candidate.is_empty() {
            candidate.push(b' ');
        }
        candidate.extend_from_slice(word);
        if text_width(&candidate, bold, size) <= max || line.is_empty() {
            line = candidate;
        } else {
            lines.push(std::mem::replace(&mut line, word.to_vec()));
        }
        while text_width(&line, bold, size) > max && line.len() > 1 {
            let mut cut = line.len() - 1;
            while cut > 1 && text_width(line.get(..cut).unwrap_or_default(), bold, size) > max {
                cut -= 1;
            }
            let rest = line.split_off(cut);
            lines.push(std::mem::replace(&mut line, rest));
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

fn draw(content: &mut Content, runs: &[Run]) {
    for run in runs {
        let font = if run.bold { Name(b"F2") } else { Name(b"F1") };
        content
            .begin_text()
            .set_font(font, run.size)
            .next_line(run.x, PAGE_HEIGHT - run.top)
            .show(Str(&run.bytes))
            .end_text();
    }
}

fn draw_footer(content: &mut Content, sequence: &str, page: &str) {
    let baseline = PAGE_HEIGHT - FOOTER_TOP;
    content
        .begin_text()
        .set_font(Name(b"F1"), 7.0)
        .next_line(LEFT, baseline)
        .show(Str(sequence.as_bytes()))
        .end_text();
    if !page.is_empty() {
        let x = PAGE_WIDTH - RIGHT - text_width(page.as_bytes(), false, 8.0);
        content
            .begin_text()
            .set_font(Name(b"F1"), 8.0)
            .next_line(x, baseline)
            .show(Str(page.as_bytes()))
            .end_text();
    }
}

/// Fold marks at 105 and 210 mm and the punch mark at 148.5 mm, in the left margin.
fn fold_marks(content: &mut Content) {
    content.set_line_width(0.3);
    for (top, length) in [(105.0, 5.0), (148.5, 7.0), (210.0, 5.0)] {
        let y = PAGE_HEIGHT - top * MM;
        content
            .move_to(3.5 * MM, y)
            .line_to((3.5 + length) * MM, y)
            .stroke();
    }
}
