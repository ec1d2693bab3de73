//! Text for the PDF's built-in Helvetica (one of the standard fonts every PDF reader has, ISO
//! 32000-1 §9.6.2.2, so nothing is embedded): encoded as WinAnsi (Windows code page 1252, ISO
//! 32000-1 Annex D), characters it lacks transliterated (`Ł` → `L`), and measured with the
//! font's advance widths from Adobe's Helvetica AFM (thousandths of the font size).

/// Code page 1252's characters in 0x80..=0x9F, in order (`None` where it has none).
const CP1252_HIGH: [Option<char>; 32] = [
    Some('€'),
    None,
    Some('‚'),
    Some('ƒ'),
    Some('„'),
    Some('…'),
    Some('†'),
    Some('‡'),
    Some('ˆ'),
    Some('‰'),
    Some('Š'),
    Some('‹'),
    Some('Œ'),
    None,
    Some('Ž'),
    None,
    None,
    Some('\u{2018}'),
    Some('\u{2019}'),
    Some('\u{201C}'),
    Some('\u{201D}'),
    Some('•'),
    Some('–'),
    Some('—'),
    Some('˜'),
    Some('™'),
    Some('š'),
    Some('›'),
    Some('œ'),
    None,
    Some('ž'),
    Some('Ÿ'),
];

/// Helvetica's widths for bytes 0x20..=0x7E.
const ASCII_WIDTHS: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, // space to /
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, // 0 to ?
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, // @ to O
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, // P to _
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, // ` to o
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, // p to ~
];

/// Helvetica's widths for bytes 0x80..=0xFF in WinAnsi order (0 where unused).
const HIGH_WIDTHS: [u16; 128] = [
    556, 0, 222, 556, 333, 1000, 556, 556, 333, 1000, 667, 333, 1000, 0, 611, 0, // 0x80
    0, 222, 222, 333, 333, 350, 556, 1000, 333, 1000, 500, 333, 944, 0, 500, 667, // 0x90
    278, 333, 556, 556, 556, 556, 260, 556, 333, 737, 370, 556, 584, 333, 737, 333, // 0xA0
    400, 584, 333, 333, 333, 556, 537, 278, 333, 333, 365, 556, 834, 834, 834, 611, // 0xB0
    667, 667, 667, 667, 667, 667, 1000, 722, 667, 667, 667, 667, 278, 278, 278, 278, // 0xC0
    722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667, 611, // 0xD0
    556, 556, 556, 556, 556, 556, 889, 500, 556, 556, 556, 556, 278, 278, 278, 278, // 0xE0
    556, 556, 556, 556, 556, 556, 556, 584, 611, 556, 556, 556, 556, 500, 556, 500, // 0xF0
];

/// One character's WinAnsi byte, if code page 1252 has it.
fn byte_of(c: char) -> Option<u8> {
    let code = u32::from(c);
    if (0x20..=0x7E).contains(&code) || (0xA0..=0xFF).contains(&code) {
        return u8::try_from(code).ok();
    }
    CP1252_HIGH
        .iter()
        .position(|known| *known == Some(c))
        .and_then(|at| u8::try_from(0x80 + at).ok())
}

/// `text` as WinAnsi bytes: characters code page 1252 lacks are transliterated to ASCII
/// (`Łódź` → `Lodz`, `Ō` → `O`), and those with no transliteration become `?`. Control
/// characters (a tab, a stray line break) become a space.
pub fn encode(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.push(b' ');
        } else if let Some(byte) = byte_of(c) {
            out.push(byte);
        } else {
            match deunicode::deunicode_char(c) {
                Some(ascii) if !ascii.is_empty() => {
                    out.extend(ascii.bytes().filter(|byte| (0x20..=0x7E).contains(byte)))
                }
                _ => out.push(b'?'),
            }
        }
    }
    out
}

/// The width of WinAnsi bytes in Helvetica, in thousandths of the font size.
pub fn width(bytes: &[u8]) -> u32 {
    bytes
        .iter()
        .map(|byte| {
            let width = match *byte {
                0x20..=0x7E => ASCII_WIDTHS.get(usize::from(*byte - 0x20)),
                0x80..=0xFF => HIGH_WIDTHS.get(usize::from(*byte - 0x80)),
                _ => None,
            };
            u32::from(width.copied().unwrap_or(556))
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin_one_and_code_page_1252_are_kept_and_the_rest_transliterated() {
        assert_eq!(encode("Zoë"), b"Zo\xEB");
        assert_eq!(encode("€5 – “ok”"), b"\x805 \x96 \x93ok\x94");
        assert_eq!(encode("Łódź"), b"L\xF3dz");
        assert_eq!(encode("a\tb"), b"a b");
    }

    #[test]
    fn widths_follow_the_font() {
        // "Hello": H 722, e 556, l 222, l 222, o 556.
        assert_eq!(width(b"Hello"), 2278);
        assert!(width(b"WWW") > width(b"iii"));
        assert_eq!(width(&encode("é")), 556);
    }
}
