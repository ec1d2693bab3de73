//! The ledger's set algebra: which shares were live at an instant, which people a standing feed
//! covered, and the holdings of a supplier as unions of person sets.
//!
//! A person set is a Roaring bitmap over dense person ids; holdings, recipients and impact are
//! unions and differences of those sets, never row-by-row joins.

use std::collections::BTreeMap;

use roaring::RoaringBitmap;
use serde::Serialize;

use crate::category::{CategoryKey, CategorySet};
use crate::ids::{ShareId, SupplierId};
use crate::instant::{Day, Instant, TimeZoneName};
use crate::person::PersonCategory;

/// How data left for a supplier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShareKind {
    /// A file sent once: the exact people in it.
    Export,
    /// A standing feed: everyone of the audience categories, kept current as people join.
    Feed(FeedAudience),
}

impl ShareKind {
    /// `export` or `feed`, as shown and stored.
    pub fn name(&self) -> &'static str {
        match self {
            ShareKind::Export => "export",
            ShareKind::Feed(_) => "feed",
        }
    }
}

/// The people a standing feed delivers: every person of these categories.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedAudience {
    /// Person categories in the audience.
    pub categories: Vec<PersonCategory>,
}

/// What the ledger records of one share, without its person set.
#[derive(Debug, Clone)]
pub struct ShareMeta {
    /// Store id.
    pub id: ShareId,
    /// The receiving supplier's store id.
    pub supplier_id: SupplierId,
    /// Export or standing feed.
    pub kind: ShareKind,
    /// When the data left (for a feed, when syncing began).
    pub shared_at: Instant,
    /// For a feed, when syncing stopped; the supplier keeps what it has until it deletes it.
    pub ends_at: Option<Instant>,
    /// The data categories sent.
    pub categories: CategorySet,
    /// Days the supplier may keep the data, from the contract.
    pub retention_days: Option<u32>,
    /// When the supplier confirmed deletion.
    pub deleted_at: Option<Instant>,
    /// Until when the supplier said backups still hold the data after deletion.
    pub backups_until: Option<Instant>,
}

/// A share's standing at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ShareState {
    /// Not yet sent.
    NotYet,
    /// Held by the supplier.
    Live,
    /// Deleted from live systems but still in the supplier's backups.
    BackupsOnly,
    /// Deleted, confirmed, and out of backups.
    Deleted,
}

impl ShareState {
    /// Whether the supplier held the data in any form.
    pub fn is_held(self) -> bool {
        matches!(self, ShareState::Live | ShareState::BackupsOnly)
    }
}

/// A share's state at `at`. A deletion confirmation ends live holding; backups the supplier
/// declared keep the data held (in backups) until they expire, because a breach of the
/// backups exposes it just the same.
pub fn share_state_at(share: &ShareMeta, at: Instant) -> ShareState {
    if share.shared_at > at {
        return ShareState::NotYet;
    }
    match share.deleted_at {
        Some(deleted) if deleted <= at => match share.backups_until {
            Some(until) if until > at => ShareState::BackupsOnly,
            _ => ShareState::Deleted,
        },
        _ => ShareState::Live,
    }
}

/// Whether the supplier held a share's data at any moment from `from` to `to` (inclusive): sent
/// by `to`, and not deleted (nor out of its declared backups) before `from`.
pub fn share_held_during(share: &ShareMeta, from: Instant, to: Instant) -> bool {
    if share.shared_at > to {
        return false;
    }
    match share.deleted_at {
        Some(deleted) if deleted <= from => share.backups_until.is_some_and(|until| until > from),
        _ => true,
    }
}

/// The days that bound a standing feed's people at an instant: everyone of the audience who had
/// joined by `joined_by` and had not left before `not_left_before` (the feed's start). People
/// who left after the feed started stay held: a synced supplier keeps them until it deletes them,
/// which is exactly the exposure a breach response must see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedWindow {
    /// Last join day covered (the earlier of `at` and the feed's end, as a local day).
    pub joined_by: Day,
    /// People who left before this day (the feed's start) were never sent.
    pub not_left_before: Day,
}

impl FeedWindow {
    /// The window of a feed share at `at`, in the organisation's time zone; `None` before it began.
    pub fn of(share: &ShareMeta, at: Instant, zone: &TimeZoneName) -> Option<Self> {
        if share.shared_at > at {
            return None;
        }
        // Nobody joins a feed after it stopped syncing or after the supplier deleted its data.
        let until = [Some(at), share.ends_at, share.deleted_at]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(at);
        Some(FeedWindow {
            joined_by: until.local_day(zone),
            not_left_before: share.shared_at.local_day(zone),
        })
    }

    /// Whether a person with these dates was covered by the feed.
    pub fn includes(&self, joined_on: Option<Day>, left_on: Option<Day>) -> bool {
        joined_on.is_none_or(|joined| joined <= self.joined_by)
            && left_on.is_none_or(|left| left >= self.not_left_before)
    }
}

/// Who and what a supplier held.
#[derive(Debug, Clone, Default)]
pub struct Holdings {
    /// Every person held (canaries excluded).
    pub people: RoaringBitmap,
    /// Canaries held.
    pub canaries: RoaringBitmap,
    /// People held per data category (canaries excluded).
    pub categories: BTreeMap<CategoryKey, RoaringBitmap>,
}

/// Unites the person sets of held shares into holdings; canaries are counted apart. Shares are
/// first united per distinct category set (most shares of a supplier carry one of a few column
/// layouts), so each category costs one union per layout rather than one per share.
pub fn holdings_from_sets<'a>(
    shares: impl IntoIterator<Item = (&'a CategorySet, &'a RoaringBitmap)>,
    canaries: &RoaringBitmap,
) -> Holdings {
    let mut by_layout: BTreeMap<&CategorySet, RoaringBitmap> = BTreeMap::new();
    for (categories, set) in shares {
        *by_layout.entry(categories).or_default() |= set;
    }
    let mut everyone = RoaringBitmap::new();
    let mut by_category: BTreeMap<CategoryKey, RoaringBitmap> = BTreeMap::new();
    for (categories, set) in &by_layout {
        everyone |= set;
        for key in *categories {
            *by_category.entry(*key).or_default() |= set;
        }
    }
    let canaries_held = &everyone & canaries;
    everyone -= canaries;
    for set in by_category.values_mut() {
        *set -= canaries;
    }
    Holdings {
        people: everyone,
        canaries: canaries_held,
        categories: by_category,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::instant::parse_instant;

    fn zone() -> TimeZoneName {
        TimeZoneName::parse("Europe/London").unwrap()
    }

    fn share(shared: &str, deleted: Option<&str>, backups: Option<&str>) -> ShareMeta {
        let at = |text: &str| parse_instant(text, &zone()).unwrap();
        ShareMeta {
            id: ShareId::new(1),
            supplier_id: SupplierId::new(1),
            kind: ShareKind::Export,
            shared_at: at(shared),
            ends_at: None,
            categories: CategorySet::new(),
            retention_days: None,
            deleted_at: deleted.map(at),
            backups_until: backups.map(at),
        }
    }

    #[test]
    fn share_states_follow_deletion_and_backups() {
        let at = |text: &str| parse_instant(text, &zone()).unwrap();
        let plain = share("2020-01-01", Some("2021-01-01"), None);
        assert_eq!(share_state_at(&plain, at("2019-12-31")), ShareState::NotYet);
        assert_eq!(share_state_at(&plain, at("2020-06-01")), ShareState::Live);
        assert_eq!(share_state_at(&plain, at("2021-01-01")), ShareState::Deleted);
        let backed_up = share("2020-01-01", Some("2021-01-01"), Some("2021-04-01"));
        assert_eq!(
            share_state_at(&backed_up, at("2021-02-01")),
            ShareState::BackupsOnly
        );
        assert_eq!(share_state_at(&backed_up, at("2021-04-02")), ShareState::Deleted);
    }

    #[test]
    fn a_window_holds_what_was_held_at_any_moment_of_it() {
        let at = |text: &str| parse_instant(text, &zone()).unwrap();
        let deleted = share("2020-01-01", Some("2021-01-01"), Some("2021-03-01"));
        assert!(
            share_held_during(&deleted, at("2020-12-01"), at("2021-06-01")),
            "held before deletion"
        );
        assert!(
            share_held_during(&deleted, at("2021-02-01"), at("2021-06-01")),
            "still in backups"
        );
        assert!(
            !share_held_during(&deleted, at("2021-03-01"), at("2021-06-01")),
            "gone before the window"
        );
        assert!(
            !share_held_during(&deleted, at("2019-01-01"), at("2019-12-31")),
            "not yet sent"
        );
        let same = |instant: &str| share_held_during(&deleted, at(instant), at(instant));
        assert_eq!(
            same("2020-06-01"),
            share_state_at(&deleted, at("2020-06-01")).is_held()
        );
        assert_eq!(
            same("2021-04-01"),
            share_state_at(&deleted, at("2021-04-01")).is_held()
        );
    }

    #[test]
    fn feeds_keep_people_who_left_after_they_began() {
        let feed = share("2020-01-01", None, None);
        let at = parse_instant("2021-10-29 18:30", &zone()).unwrap();
        let window = FeedWindow::of(&feed, at, &zone()).unwrap();
        let day = |text: &str| crate::instant::parse_day(text).unwrap();
        assert!(window.includes(Some(day("2015-05-05")), None));
        assert!(
            window.includes(Some(day("2015-05-05")), Some(day("2020-06-01"))),
            "left after the feed began"
        );
        assert!(
            !window.includes(Some(day("2015-05-05")), Some(day("2019-06-01"))),
            "left before it began"
        );
        assert!(
            !window.includes(Some(day("2021-10-30")), None),
            "joined after the instant"
        );
        assert!(window.includes(None, None), "unknown dates count as covered");
        let deleted = share("2020-01-01", Some("2021-06-01"), Some("2022-06-01"));
        let window = FeedWindow::of(&deleted, at, &zone()).unwrap();
        assert!(
            !window.includes(Some(day("2021-07-01")), None),
            "joined after the feed's data was deleted"
        );
        assert!(window.includes(Some(day("2021-05-31")), None));
    }

    #[test]
    fn holdings_unite_sets_and_count_canaries_apart() {
        let email = CategoryKey::parse("user.contact.email").unwrap();
        let name = CategoryKey::parse("user.name").unwrap();
        let first: CategorySet = [email, name].into_iter().collect();
        let second: CategorySet = [email].into_iter().collect();
        let a: RoaringBitmap = [1, 2, 3, 100].into_iter().collect();
        let b: RoaringBitmap = [3, 4, 5].into_iter().collect();
        let canaries: RoaringBitmap = [100, 200].into_iter().collect();
        let holdings = holdings_from_sets([(&first, &a), (&second, &b)], &canaries);
        assert_eq!(holdings.people.len(), 5);
        assert_eq!(holdings.canaries.len(), 1);
        assert_eq!(holdings.categories[&email].len(), 5);
        assert_eq!(holdings.categories[&name].len(), 3);
    }
}
