//! Linkage as a person would do it: names folded the way people write them, and how close two
//! records' fields are, field by field, in the levels a Fellegi–Sunter model weighs (exact,
//! close, far, different, missing), as Splink's comparisons do.
//!
//! Names are compared folded: transliterated (`Müller` → `muller`), lower-cased, letters only
//! (`O'Brien` → `obrien`, `Smith-Jones` → `smithjones`). German and Nordic spellings without
//! the letter (`Mueller`, `Soerensen`, `Haakon`) are the same name: the second fold turns `ae`,
//! `oe`, `ue` and `aa` into `a`, `o`, `u`, `a` on both sides. Given names that are one another's
//! nicknames (`Bob`, `Robert`) are close, not exact.

use crate::instant::Day;

/// One record as linkage sees it: every part optional, every part already folded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkRecord {
    /// Given name, folded (its first word).
    pub first: String,
    /// Family name, folded (its last word).
    pub last: String,
    /// Date of birth.
    pub born: Option<Day>,
    /// Postcode, normalised (upper case, no spaces: `normalise_postcode`).
    pub postcode: Option<String>,
    /// Email address, lower-cased.
    pub email: Option<String>,
    /// Phone number (E.164).
    pub phone: Option<String>,
}

/// The fields compared, in the order of [`Levels`].
pub const LINK_FIELDS: [&str; 6] = [
    "first_name",
    "last_name",
    "date_of_birth",
    "postcode",
    "email",
    "phone",
];

/// How far apart two values of one field are: 0 exact, 1 close, 2 far, 3 different; `MISSING`
/// when either side has no value (it then counts neither way).
pub type Level = u8;
/// Either side had no value.
pub const MISSING: Level = 255;
/// The number of levels a field can have (besides missing).
pub const LEVELS: usize = 4;

/// The levels of the six fields of [`LINK_FIELDS`].
pub type Levels = [Level; 6];

/// Folds a name as linkage compares it: the words transliterated, lower-cased, letters only.
pub fn fold_name_words(text: &str) -> Vec<String> {
    let ascii = if text.is_ascii() {
        std::borrow::Cow::Borrowed(text)
    } else {
        std::borrow::Cow::Owned(deunicode::deunicode(text))
    };
    ascii
        .to_lowercase()
        .split(|c: char| c.is_whitespace() || c == ',')
        // A word of figures alone (`Customer 15`) is no name; figures inside a word are letters.
        .filter(|word| word.bytes().any(|byte| byte.is_ascii_alphabetic()))
        .map(|word| {
            word.bytes()
                .filter_map(name_letter)
                .map(char::from)
                .collect::<String>()
        })
        .filter(|word| !word.is_empty())
        .collect()
}

/// A byte of a name as linkage keeps it: letters lower-cased, and the figures scanners and
/// typists put for letters read as those letters (`0` o, `1` l, `5` s: `R0Y`, `Gi1l`).
fn name_letter(byte: u8) -> Option<u8> {
    match byte {
        b'a'..=b'z' => Some(byte),
        b'A'..=b'Z' => Some(byte.to_ascii_lowercase()),
        b'0' => Some(b'o'),
        b'1' => Some(b'l'),
        b'5' => Some(b's'),
        _ => None,
    }
}

/// The second fold: `ae`, `oe`, `ue` and `aa` as one vowel, `ss` as `s`, so `Mueller` and
/// `Müller` (folded `muller`), `Soerensen` and `Sørensen` (`sorensen`) are the same name.
pub fn vowel_fold(word: &str) -> String {
    vowel_folded(word).map(char::from).collect()
}

/// Whether two words are the same after [`vowel_fold`], compared byte by byte as they are
/// folded, with nothing made: linkage asks this of every pair of names it compares.
pub fn vowel_folds_equal(a: &str, b: &str) -> bool {
    vowel_folded(a).eq(vowel_folded(b))
}

/// The bytes of [`vowel_fold`]'s output, one at a time (each byte is one character there, so
/// two words fold alike exactly when these are the same).
fn vowel_folded(word: &str) -> impl Iterator<Item = u8> + '_ {
    let bytes = word.as_bytes();
    let mut at = 0;
    std::iter::from_fn(move || {
        let byte = *bytes.get(at)?;
        let next = bytes.get(at + 1).copied();
        let pair = matches!(
            (byte, next),
            (b'a' | b'o' | b'u', Some(b'e')) | (b'a', Some(b'a')) | (b's', Some(b's'))
        );
        at += if pair { 2 } else { 1 };
        Some(byte)
    })
}

/// The other spellings of a name key (`original`, the `name_key` of `first` and `last`) under which the ledger may hold the same
/// person: with German and Nordic letters written out (`Müller` as `mueller`, `Ø` as `oe`) or
/// folded back (`Mueller` as `muller`). Empty when there is none.
pub fn name_key_spellings(first: &str, last: &str, original: &str) -> Vec<String> {
    let mut out = Vec::new();
    // Most names have neither a letter to write out nor one written out: nothing to make.
    let written = |key: &str| {
        key.as_bytes()
            .windows(2)
            .any(|pair| matches!(pair, [b'a' | b'o' | b'u', b'e']))
    };
    if first.is_ascii() && last.is_ascii() && !written(original) {
        return out;
    }
    let written_out = |text: &str| -> Option<String> {
        if text.is_ascii() {
            return None;
        }
        let mut replaced = String::with_capacity(text.len() + 4);
        for c in text.chars() {
            match c {
                'ä' | 'Ä' | 'æ' | 'Æ' => replaced.push_str("ae"),
                'ö' | 'Ö' | 'ø' | 'Ø' | 'œ' | 'Œ' => replaced.push_str("oe"),
                'ü' | 'Ü' => replaced.push_str("ue"),
                'å' | 'Å' => replaced.push_str("aa"),
                other => replaced.push(other),
            }
        }
        (replaced != text).then_some(replaced)
    };
    let mut add = |candidate: Option<String>| {
        if let Some(candidate) = candidate
            && candidate != original
            && !out.contains(&candidate)
        {
            out.push(candidate);
        }
    };
    let (first_out, last_out) = (written_out(first), written_out(last));
    if first_out.is_some() || last_out.is_some() {
        add(crate::name_key(
            first_out.as_deref().unwrap_or(first),
            last_out.as_deref().unwrap_or(last),
        ));
    }
    if written(original)
        && let Some((f, l)) = original.split_once('|')
    {
        add(Some(format!("{}|{}", vowel_fold_soft(f), vowel_fold_soft(l))));
    }
    out
}

/// `ae`, `oe`, `ue` as `a`, `o`, `u` only (what `deunicode` makes of `ä`, `ö`, `ü`).
fn vowel_fold_soft(word: &str) -> String {
    word.replace("ae", "a").replace("oe", "o").replace("ue", "u")
}

/// Whether two folded given names are one person's (`bob` and `robert`), from the common
/// English diminutives and the forms of the same names in German, French, Spanish, Italian,
/// Dutch, Polish and Welsh.
pub fn are_nicknames(a: &str, b: &str) -> bool {
    let groups = nickname_groups();
    match (groups.get(a), groups.get(b)) {
        (Some(mine), Some(theirs)) => mine.iter().any(|group| theirs.contains(group)),
        _ => false,
    }
}

/// The groups each name is in, built once.
fn nickname_groups() -> &'static std::collections::HashMap<&'static str, Vec<u16>> {
    static GROUPS: std::sync::OnceLock<std::collections::HashMap<&'static str, Vec<u16>>> =
        std::sync::OnceLock::new();
    GROUPS.get_or_init(|| {
        let mut groups: std::collections::HashMap<&'static str, Vec<u16>> = std::collections::HashMap::new();
        for (number, group) in NICKNAMES.iter().enumerate() {
            for name in *group {
                groups
                    .entry(name)
                    .or_default()
                    .push(u16::try_from(number).unwrap_or(u16::MAX));
            }
        }
        groups
    })
}

/// Groups of given names one person goes by.
const NICKNAMES: &[&[&str]] = &[
    &[
        "robert", "bob", "rob", "bobby", "robbie", "bert", "roberto", "rupert",
    ],
    &[
        "william",
        "bill",
        "will",
        "billy",
        "willie",
        "liam",
        "wilhelm",
        "willem",
        "guillaume",
        "guillermo",
    ],
    &[
        "elizabeth",
        "liz",
        "beth",
        "lizzie",
        "betty",
        "eliza",
        "elisabeth",
        "libby",
        "bess",
        "isabel",
    ],
    &[
        "margaret",
        "maggie",
        "meg",
        "peggy",
        "marge",
        "margot",
        "greta",
        "margarete",
        "marguerite",
    ],
    &[
        "katherine",
        "kate",
        "kathy",
        "katie",
        "catherine",
        "kathryn",
        "cathy",
        "kat",
        "katharina",
        "katrin",
        "caterina",
        "catalina",
    ],
    &["richard", "rich", "rick", "dick", "ricky", "riccardo", "ricardo"],
    &["james", "jim", "jimmy", "jamie", "jaime", "giacomo", "jacques"],
    &[
        "john", "jack", "johnny", "jon", "johannes", "hans", "jan", "jean", "juan", "giovanni", "joao",
    ],
    &[
        "michael", "mike", "mick", "mikey", "michel", "miguel", "michele", "micha",
    ],
    &["thomas", "tom", "tommy", "tomas", "tommaso"],
    &["joseph", "joe", "joey", "jose", "giuseppe", "josef", "jozef"],
    &["charles", "charlie", "chuck", "carl", "karl", "carlos", "carlo"],
    &[
        "edward", "ed", "eddie", "ted", "ned", "eduard", "eduardo", "edoardo",
    ],
    &["anthony", "tony", "antonio", "anton", "antoine", "antonius"],
    &[
        "christopher",
        "chris",
        "kit",
        "christoph",
        "cristobal",
        "cristoforo",
    ],
    &["daniel", "dan", "danny", "dani"],
    &[
        "matthew", "matt", "matthias", "mathieu", "mateo", "matteo", "mattheus",
    ],
    &[
        "andrew", "andy", "drew", "andreas", "andre", "andres", "andrea", "andrzej",
    ],
    &[
        "alexander",
        "alex",
        "sandy",
        "alexandre",
        "alejandro",
        "alessandro",
        "aleksander",
        "sasha",
    ],
    &["alexandra", "alex", "lexi", "sandra", "alessandra", "alejandra"],
    &["benjamin", "ben", "benny", "benji"],
    &["samuel", "sam", "sammy"],
    &["samantha", "sam", "sammie"],
    &[
        "nicholas", "nick", "nicky", "nicolas", "nikolaus", "klaus", "niccolo", "mikolaj",
    ],
    &["jonathan", "jon", "jonny", "nathan"],
    &[
        "stephen", "steve", "steven", "stefan", "stephan", "esteban", "stefano", "etienne",
    ],
    &["david", "dave", "davy", "dai", "dafydd"],
    &["peter", "pete", "pierre", "pedro", "pietro", "piotr", "pieter"],
    &["patrick", "pat", "paddy", "patricio", "patrizio"],
    &["patricia", "pat", "patty", "tricia", "trish"],
    &["susan", "sue", "susie", "suzanne", "susanne", "susanna"],
    &["jennifer", "jen", "jenny", "jenna"],
    &["rebecca", "becky", "becca"],
    &["deborah", "debbie", "deb", "debra"],
    &["victoria", "vicky", "tori", "vikki"],
    &["christine", "chris", "christina", "kristina", "tina", "kirsten"],
    &["jessica", "jess", "jessie"],
    &["joanne", "jo", "joanna", "johanna", "jana"],
    &["mary", "molly", "polly", "maria", "marie", "mia", "mari"],
    &["ann", "anne", "anna", "annie", "hannah", "anja", "ania"],
    &["helen", "helena", "ellen", "nell", "lena", "elena", "helene"],
    &[
        "frances",
        "fran",
        "frankie",
        "francesca",
        "francoise",
        "francisca",
    ],
    &[
        "francis",
        "frank",
        "frankie",
        "franz",
        "francois",
        "francisco",
        "francesco",
        "franciszek",
    ],
    &[
        "henry", "harry", "hank", "heinrich", "henri", "enrique", "enrico", "henryk", "hendrik",
    ],
    &["gerald", "gerry", "jerry", "gerard"],
    &["lawrence", "larry", "laurence", "lorenzo", "laurent"],
    &["timothy", "tim", "timmy"],
    &["kenneth", "ken", "kenny"],
    &["ronald", "ron", "ronnie"],
    &["donald", "don", "donnie"],
    &["gregory", "greg", "gregor", "gregorio", "gregoire"],
    &["jacob", "jake", "jakob", "jacobo", "jakub"],
    &["joshua", "josh"],
    &["zachary", "zach", "zack"],
    &[
        "philip", "phil", "phillip", "philipp", "philippe", "felipe", "filippo",
    ],
    &["theodore", "theo", "ted", "teddy"],
    &["abigail", "abby", "abbie", "gail"],
    &["dorothy", "dot", "dottie", "dora"],
    &["emily", "em", "emmy", "emilie", "emilia"],
    &["caroline", "carol", "carrie", "carolina", "karolina"],
    &["sarah", "sally", "sara", "sadie"],
    &["louise", "lou", "lulu", "louisa", "luisa"],
    &["gwendolyn", "gwen", "gwyneth"],
    &["llewellyn", "llew", "lew"],
    &["owen", "owain"],
    &["evan", "ieuan", "iwan"],
];

/// A phonetic code of a folded word (American Soundex, as the US National Archives define it:
/// the first letter, then up to three digits for the consonant groups, `h` and `w` not
/// separating equal codes). Words that sound alike (`smith`, `smyth`) share it.
pub fn soundex(word: &str) -> String {
    String::from_utf8(soundex_code(word).to_vec()).unwrap_or_default()
}

/// [`soundex`] as four bytes, without allocating (zeros for an empty word).
pub fn soundex_code(word: &str) -> [u8; 4] {
    let code = |c: u8| match c {
        b'b' | b'f' | b'p' | b'v' => b'1',
        b'c' | b'g' | b'j' | b'k' | b'q' | b's' | b'x' | b'z' => b'2',
        b'd' | b't' => b'3',
        b'l' => b'4',
        b'm' | b'n' => b'5',
        b'r' => b'6',
        b'h' | b'w' => b'h',
        _ => b'0',
    };
    let bytes = word.as_bytes();
    let Some(&first) = bytes.first() else {
        return [0; 4];
    };
    let mut out = [first.to_ascii_uppercase(), b'0', b'0', b'0'];
    let mut filled = 1;
    let mut last = code(first);
    for &byte in bytes.iter().skip(1) {
        let digit = code(byte);
        if digit == b'h' {
            continue;
        }
        if digit != b'0' && digit != last {
            if let Some(slot) = out.get_mut(filled) {
                *slot = digit;
            }
            filled += 1;
            if filled == 4 {
                break;
            }
        }
        last = digit;
    }
    out
}

/// The first word of a name, folded as [`fold_name_words`] folds it, without the vector.
pub fn fold_first_word(text: &str) -> Option<String> {
    fold_word(text, false)
}

/// The last word of a name, folded.
pub fn fold_last_word(text: &str) -> Option<String> {
    fold_word(text, true)
}

fn fold_word(text: &str, last: bool) -> Option<String> {
    if !text.is_ascii() {
        let words = fold_name_words(text);
        return if last {
            words.into_iter().last()
        } else {
            words.into_iter().next()
        };
    }
    let mut words = text
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|word| word.bytes().any(|byte| byte.is_ascii_alphabetic()));
    let word = if last { words.next_back() } else { words.next() }?;
    Some(word.bytes().filter_map(name_letter).map(char::from).collect())
}

/// How close two folded given names are.
pub fn compare_first(ours: &str, theirs: &str) -> Level {
    if ours.is_empty() || theirs.is_empty() {
        return MISSING;
    }
    if ours == theirs {
        return 0;
    }
    // `Jürgen` written `Juergen`, but also `Michael` and `Michal`: close, never exact.
    if vowel_folds_equal(ours, theirs) {
        return 1;
    }
    if are_nicknames(ours, theirs) {
        return 1;
    }
    // An initial for a name.
    if (ours.len() == 1 || theirs.len() == 1) && ours.get(..1) == theirs.get(..1) {
        return 2;
    }
    by_similarity(ours, theirs)
}

/// How close two folded family names are (a double-barrelled name holds its parts).
pub fn compare_last(ours: &str, theirs: &str) -> Level {
    if ours.is_empty() || theirs.is_empty() {
        return MISSING;
    }
    if ours == theirs {
        return 0;
    }
    if vowel_folds_equal(ours, theirs) {
        return 1;
    }
    if (ours.len() >= 4 && theirs.len() >= 4) && (ours.contains(theirs) || theirs.contains(ours)) {
        return 1;
    }
    by_similarity(ours, theirs)
}

/// Jaro–Winkler at 0.92 and above is close, at 0.80 far; else different. One edit apart
/// (Damerau–Levenshtein) in names of four letters or more is close too.
fn by_similarity(a: &str, b: &str) -> Level {
    // `rn` read for `m`, as scanners read it (`Srnith`).
    if (a.contains("rn") || b.contains("rn")) && a.replace("rn", "m") == b.replace("rn", "m") {
        return 1;
    }
    let similarity = strsim::jaro_winkler(a, b);
    let one_edit = || {
        a.len().min(b.len()) >= 4 && a.len().abs_diff(b.len()) <= 1 && strsim::damerau_levenshtein(a, b) <= 1
    };
    if similarity >= 0.92 || one_edit() {
        1
    } else if similarity >= 0.80 {
        2
    } else {
        3
    }
}

/// Whether two strings are at most one edit apart: one character inserted, deleted or
/// replaced, or two neighbours swapped (Damerau–Levenshtein distance ≤ 1), in one pass and
/// without allocating.
pub fn one_edit_apart(a: &[u8], b: &[u8]) -> bool {
    if a.len().abs_diff(b.len()) > 1 {
        return false;
    }
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let (a, b) = (a.get(prefix..).unwrap_or(&[]), b.get(prefix..).unwrap_or(&[]));
    let suffix = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (a, b) = (
        a.get(..a.len() - suffix.min(a.len())).unwrap_or(&[]),
        b.get(..b.len() - suffix.min(b.len())).unwrap_or(&[]),
    );
    match (a.len(), b.len()) {
        (0, 0) | (0, 1) | (1, 0) | (1, 1) => true,
        (2, 2) => a.first() == b.get(1) && a.get(1) == b.first(),
        _ => false,
    }
}

/// How close two dates of birth are: close when one figure was mistyped or day and month
/// swapped, far when only the year agrees.
pub fn compare_born(ours: Option<Day>, theirs: Option<Day>) -> Level {
    let (ours, theirs) = match both(ours, theirs) {
        Ok(pair) => pair,
        Err(level) => return level,
    };
    let (a, b) = (ours.date(), theirs.date());
    let swapped = a.year() == b.year() && a.month() == b.day() && a.day() == b.month();
    let (x, y) = (ours.to_iso(), theirs.to_iso());
    if swapped || strsim::hamming(&x, &y).is_ok_and(|distance| distance <= 1) {
        return 1;
    }
    if a.year() == b.year() || (a.month() == b.month() && a.day() == b.day()) {
        return 2;
    }
    3
}

/// Both values, or the level when one is missing (`MISSING`) or they are equal (exact).
fn both<T: PartialEq>(ours: Option<T>, theirs: Option<T>) -> Result<(T, T), Level> {
    match (ours, theirs) {
        (Some(ours), Some(theirs)) if ours == theirs => Err(0),
        (Some(ours), Some(theirs)) => Ok((ours, theirs)),
        _ => Err(MISSING),
    }
}

/// How close two postcodes are: close one character off (or two swapped), far in the same
/// district (the outward code).
pub fn compare_postcode(ours: Option<&str>, theirs: Option<&str>) -> Level {
    let (ours, theirs) = match both(ours, theirs) {
        Ok(pair) => pair,
        Err(level) => return level,
    };
    let compact = |text: &str| -> ([u8; 16], usize) {
        let mut out = [0u8; 16];
        let mut length = 0;
        for byte in text.bytes().filter(|byte| *byte != b' ') {
            if let Some(slot) = out.get_mut(length) {
                *slot = byte;
                length += 1;
            }
        }
        (out, length)
    };
    let ((a, la), (b, lb)) = (compact(ours), compact(theirs));
    let (a, b) = (a.get(..la).unwrap_or(&[]), b.get(..lb).unwrap_or(&[]));
    // A postcode of letters and figures one character off is a typo; a numeric one (a ZIP, a
    // PLZ) one figure off is the next town.
    let lettered = a.iter().any(u8::is_ascii_alphabetic);
    let one_off = one_edit_apart(a, b);
    if a == b || (lettered && one_off) {
        return 1;
    }
    if same_district(a, b) {
        return 2;
    }
    3
}

/// Whether two postcodes (without spaces) are in one district: a UK postcode's outward code
/// (all but its last three characters), or the first three figures of a numeric one.
fn same_district(a: &[u8], b: &[u8]) -> bool {
    let inward = |code: &[u8]| {
        code.len() >= 5
            && matches!(code.get(code.len() - 3..), Some([digit, x, y])
                if digit.is_ascii_digit() && x.is_ascii_alphabetic() && y.is_ascii_alphabetic())
    };
    if inward(a) && inward(b) {
        return a.get(..a.len() - 3) == b.get(..b.len() - 3);
    }
    let numeric = |code: &[u8]| code.len() >= 4 && code.iter().all(u8::is_ascii_digit);
    numeric(a) && numeric(b) && a.get(..3) == b.get(..3)
}

/// How close two email addresses are: close with the same domain and the local part one or two
/// keystrokes off, or the same local part at another domain; far when the local parts are
/// alike (Jaro–Winkler 0.88) at another domain.
pub fn compare_email(ours: Option<&str>, theirs: Option<&str>) -> Level {
    let (ours, theirs) = match both(ours, theirs) {
        Ok(pair) => pair,
        Err(level) => return level,
    };
    let (Some((la, da)), Some((lb, db))) = (ours.rsplit_once('@'), theirs.rsplit_once('@')) else {
        return 3;
    };
    if da == db {
        return if la.len().abs_diff(lb.len()) <= 2 && strsim::damerau_levenshtein(la, lb) <= 2 {
            1
        } else {
            3
        };
    }
    // The same local part at another domain may be another person's (`info@`, a common name).
    if (la == lb && la.len() >= 6) || (la.get(..1) == lb.get(..1) && strsim::jaro_winkler(la, lb) >= 0.88) {
        return 2;
    }
    3
}

/// How close two phone numbers are: close one digit off or two swapped.
pub fn compare_phone(ours: Option<&str>, theirs: Option<&str>) -> Level {
    let (ours, theirs) = match both(ours, theirs) {
        Ok(pair) => pair,
        Err(level) => return level,
    };
    if one_edit_apart(ours.as_bytes(), theirs.as_bytes()) {
        return 1;
    }
    3
}

/// Compares two records field by field; names are also tried the other way round (a family
/// name in the given-name column), and the better reading is kept with whether it was swapped.
pub fn compare(ours: &LinkRecord, theirs: &LinkRecord) -> (Levels, bool) {
    let rest = [
        compare_born(ours.born, theirs.born),
        compare_postcode(ours.postcode.as_deref(), theirs.postcode.as_deref()),
        compare_email(ours.email.as_deref(), theirs.email.as_deref()),
        compare_phone(ours.phone.as_deref(), theirs.phone.as_deref()),
    ];
    let straight = (
        compare_first(&ours.first, &theirs.first),
        compare_last(&ours.last, &theirs.last),
    );
    let closeness = |(a, b): (Level, Level)| u16::from(a.min(4)) + u16::from(b.min(4));
    // Names that agree as they stand need no second reading.
    if closeness(straight) <= 1 {
        let [born, postcode, email, phone] = rest;
        return ([straight.0, straight.1, born, postcode, email, phone], false);
    }
    let swapped = (
        compare_first(&ours.first, &theirs.last),
        compare_last(&ours.last, &theirs.first),
    );
    let (names, was_swapped) = if closeness(swapped) + 1 < closeness(straight) {
        (swapped, true)
    } else {
        (straight, false)
    };
    let [born, postcode, email, phone] = rest;
    ([names.0, names.1, born, postcode, email, phone], was_swapped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_day;

    fn day(text: &str) -> Option<Day> {
        parse_day(text).ok()
    }

    #[test]
    fn names_as_people_write_them() {
        assert_eq!(fold_name_words("R0Y Gi1L"), ["roy", "gill"]);
        assert_eq!(fold_name_words("Customer 15"), ["customer"]);
        assert_eq!(fold_first_word("R0Y"), Some("roy".to_owned()));
        assert_eq!(compare_last("smith", "srnith"), 1);
        assert_eq!(fold_name_words("O'Brien-Smith"), ["obriensmith"]);
        assert_eq!(fold_name_words("Müller"), ["muller"]);
        assert_eq!(compare_last("muller", "mueller"), 1);
        assert_eq!(compare_last("sorensen", "soerensen"), 1);
        assert_eq!(compare_first("michael", "michal"), 1);
        assert_eq!(compare_first("robert", "bob"), 1);
        assert_eq!(compare_first("bob", "robert"), 1);
        assert_eq!(compare_last("smith", "smyth"), 1);
        assert_eq!(compare_last("johnson", "jonhson"), 1);
        assert_eq!(compare_last("smith", "patel"), 3);
        assert_eq!(compare_first("", "alex"), MISSING);
        assert_eq!(soundex("robert"), "R163");
        assert_eq!(soundex("rupert"), "R163");
        assert_eq!(soundex("ashcraft"), "A261");
        assert_eq!(soundex("tymczak"), "T522");
        for name in [
            "O'Brien-Smith",
            "  Mary Ann  Smith ",
            "Müller Lüdenscheid",
            "x",
            "1 2",
        ] {
            assert_eq!(
                fold_first_word(name),
                fold_name_words(name).into_iter().next(),
                "{name}"
            );
            assert_eq!(
                fold_last_word(name),
                fold_name_words(name).into_iter().last(),
                "{name}"
            );
        }
    }

    #[test]
    fn spellings_of_a_name_key() {
        let spellings = |first: &str, last: &str| {
            name_key_spellings(first, last, &crate::name_key(first, last).unwrap_or_default())
        };
        assert_eq!(spellings("Jürgen", "Müller"), ["juergen|mueller"]);
        assert_eq!(spellings("Juergen", "Mueller"), ["jurgen|muller"]);
        assert_eq!(spellings("Ørjan", "Sørensen"), ["oerjan|soerensen"]);
        assert!(spellings("Alex", "Smith").is_empty());
    }

    #[test]
    fn dates_postcodes_and_addresses() {
        assert_eq!(compare_born(day("1980-04-03"), day("1980-03-04")), 1);
        assert_eq!(compare_born(day("1980-04-03"), day("1980-04-08")), 1);
        assert_eq!(compare_born(day("1980-04-03"), day("1980-11-20")), 2);
        assert_eq!(compare_born(day("1980-04-03"), day("1972-11-20")), 3);
        assert_eq!(compare_postcode(Some("LS14AP"), Some("LS14AB")), 1);
        assert_eq!(compare_postcode(Some("LS14AP"), Some("LS19ZZ")), 2);
        assert_eq!(compare_postcode(Some("LS14AP"), Some("M11AE")), 3);
        assert_eq!(compare_postcode(Some("10115"), Some("10117")), 2);
        assert_eq!(compare_postcode(Some("10115"), Some("80331")), 3);
        assert_eq!(
            compare_email(Some("alex.smith@example.org"), Some("alex.smiht@example.org")),
            1
        );
        assert_eq!(compare_phone(Some("+447700900123"), Some("+447700900132")), 1);
    }

    #[test]
    fn one_edit_is_what_damerau_levenshtein_says() {
        let words = [
            "", "a", "ab", "ba", "abc", "acb", "abd", "abcd", "bacd", "abdc", "xbcd", "abcde", "smith",
            "smiht", "smyth", "smit",
        ];
        for a in words {
            for b in words {
                assert_eq!(
                    one_edit_apart(a.as_bytes(), b.as_bytes()),
                    strsim::damerau_levenshtein(a, b) <= 1,
                    "{a} {b}"
                );
            }
        }
    }

    #[test]
    fn swapped_names_are_read_the_right_way_round() {
        let ours = LinkRecord {
            first: "alex".into(),
            last: "smith".into(),
            ..LinkRecord::default()
        };
        let theirs = LinkRecord {
            first: "smith".into(),
            last: "alex".into(),
            ..LinkRecord::default()
        };
        let (levels, swapped) = compare(&ours, &theirs);
        assert!(swapped);
        assert_eq!(&levels[..2], &[0, 0]);
    }

    #[test]
    fn vowel_folds_are_equal_exactly_when_the_folded_words_are() {
        // Words of the letters the fold pairs (and one written with two bytes), so that pairs,
        // overlapping pairs (`aae`, `sss`) and a pair at the end all come up.
        let letters = ["a", "e", "o", "u", "s", "m", "ø"];
        let mut rng = fastrand::Rng::with_seed(41);
        let mut word = || -> String {
            (0..rng.usize(0..7))
                .map(|_| letters[rng.usize(..letters.len())])
                .collect()
        };
        let (mut equal, mut different) = (0, 0);
        for _ in 0..100_000 {
            let (a, b) = (word(), word());
            let expected = vowel_fold(&a) == vowel_fold(&b);
            assert_eq!(vowel_folds_equal(&a, &b), expected, "{a:?} {b:?}");
            assert!(vowel_folds_equal(&a, &a));
            if expected { equal += 1 } else { different += 1 }
        }
        assert!(
            equal > 1_000 && different > 1_000,
            "{equal} equal, {different} different"
        );
        assert!(vowel_folds_equal("mueller", "muller"));
        assert!(!vowel_folds_equal("muller", "mullers"));
        assert_eq!(vowel_fold("soerensen"), "sorensen");
    }
}
