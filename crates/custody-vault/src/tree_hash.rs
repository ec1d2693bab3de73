//! Keyed BLAKE3 of a long input on two threads: the same hash as one `Hasher` fed the same
//! bytes, made the way BLAKE3's tree allows (section 2.1 of the BLAKE3 paper: a subtree that
//! starts at a multiple of its own power-of-two size is hashed on its own, and the chaining
//! values are merged), through the `blake3` crate's `hazmat` interface. Tests compare it with
//! the plain hasher at lengths on and around the tree's boundaries.

use blake3::hazmat::{
    ChainingValue, HasherExt, Mode, left_subtree_len, merge_subtrees_non_root, merge_subtrees_root,
};
use blake3::{CHUNK_LEN, Hasher};

/// Inputs shorter than this are hashed on one thread: a thread would cost more than it saves.
pub(crate) const PARALLEL_BYTES_MIN: u64 = 16 << 20;

/// The keyed hash of `pieces` laid end to end: on two threads when they come to at least
/// `parallel_min` bytes.
pub(crate) fn keyed_hash(key: &[u8; 32], pieces: &[&[u8]], parallel_min: u64) -> [u8; 32] {
    let total: u64 = pieces.iter().map(|piece| piece.len() as u64).sum();
    if total < parallel_min.max(4 * CHUNK_LEN as u64) {
        return sequential(key, pieces);
    }
    // The root's children: the left subtree (a power of two, at least half) and the rest. Two
    // threads share them either as they are, or as the left subtree's first half on one and its
    // second half with the right subtree on the other: whichever leaves the busier thread less.
    let left = left_subtree_len(total);
    let half = left / 2;
    let quartered = total - half < left;
    let mode = Mode::KeyedHash(key);
    let outcome = std::thread::scope(|scope| {
        let other = std::thread::Builder::new()
            .name("mac".to_owned())
            .spawn_scoped(scope, || {
                if quartered {
                    let second_half = subtree(key, pieces, half, left);
                    (second_half, Some(subtree(key, pieces, left, total)))
                } else {
                    (subtree(key, pieces, left, total), None)
                }
            })
            .ok()?;
        let first = subtree(key, pieces, 0, if quartered { half } else { left });
        other.join().ok().map(|other| (first, other))
    });
    match outcome {
        Some((first_half, (second_half, Some(right)))) => {
            let left = merge_subtrees_non_root(&first_half, &second_half, mode);
            *merge_subtrees_root(&left, &right, mode).as_bytes()
        }
        Some((left, (right, None))) => *merge_subtrees_root(&left, &right, mode).as_bytes(),
        // No second thread (none could be started, or it failed): one does it all.
        None => sequential(key, pieces),
    }
}

fn sequential(key: &[u8; 32], pieces: &[&[u8]]) -> [u8; 32] {
    let mut hasher = Hasher::new_keyed(key);
    for piece in pieces {
        hasher.update(piece);
    }
    *hasher.finalize().as_bytes()
}

/// The chaining value of bytes `from..to` of `pieces` laid end to end: a subtree, so `from` is a
/// multiple of a power-of-two number of chunks no smaller than `to - from` (a subtree on the
/// right edge may be shorter, never longer).
fn subtree(key: &[u8; 32], pieces: &[&[u8]], from: u64, to: u64) -> ChainingValue {
    let mut hasher = Hasher::new_keyed(key);
    if from > 0 {
        hasher.set_input_offset(from);
    }
    let mut at = 0_u64;
    for piece in pieces {
        let end = at + piece.len() as u64;
        if end > from && at < to {
            let start = from.saturating_sub(at) as usize;
            let stop = (to.min(end) - at) as usize;
            hasher.update(piece.get(start..stop).unwrap_or_default());
        }
        at = end;
    }
    hasher.finalize_non_root()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_threads_give_the_plain_hash_at_every_boundary() {
        let key = [9_u8; 32];
        let bytes: Vec<u8> = (0..1_100_000_u32)
            .map(|at| (at.wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect();
        let chunk = CHUNK_LEN;
        let mut lengths = vec![
            4 * chunk,
            4 * chunk + 1,
            5000,
            6 * chunk - 1,
            6 * chunk,
            6 * chunk + 1,
        ];
        lengths.extend([
            8 * chunk - 1,
            8 * chunk,
            8 * chunk + 1,
            12 * chunk,
            100_000,
            1 << 20,
            (1 << 20) + 3,
        ]);
        for length in lengths {
            let input = &bytes[..length];
            // Pieces as a kept file's MAC gives them: short ones, then the body cut anywhere.
            for cuts in [
                vec![],
                vec![8],
                vec![8, 20, 28],
                vec![3, length / 2, length / 2 + 1],
            ] {
                let mut pieces = Vec::new();
                let mut at = 0;
                for cut in cuts.iter().chain([&length]) {
                    pieces.push(&input[at..*cut]);
                    at = *cut;
                }
                assert_eq!(
                    keyed_hash(&key, &pieces, 0),
                    *blake3::keyed_hash(&key, input).as_bytes(),
                    "{length} bytes cut at {cuts:?}"
                );
            }
        }
        // Below the threshold, one thread: the same hash.
        assert_eq!(
            keyed_hash(&key, &[&bytes[..5000]], PARALLEL_BYTES_MIN),
            *blake3::keyed_hash(&key, &bytes[..5000]).as_bytes()
        );
    }
}
