//! A call's life (issue «Calls»): who is in it, when it counts as answered,
//! and when it is over and how. The server holds one [`Call`] per live call
//! and asks it what each join, leave, decline or timeout means; the media
//! never passes through here.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallKind {
    Audio,
    Video,
}

impl CallKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CallKind::Audio => "audio",
            CallKind::Video => "video",
        }
    }

    pub fn parse(s: &str) -> Option<CallKind> {
        match s {
            "audio" => Some(CallKind::Audio),
            "video" => Some(CallKind::Video),
            _ => None,
        }
    }
}

/// How a call ended; its record in the chat says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallOutcome {
    Finished,
    /// A direct call nobody answered (the caller gave up or it rang out).
    Missed,
    Declined,
    EndedByModerator,
    /// The node hosting it stopped or crashed.
    ServerRestart,
}

impl CallOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            CallOutcome::Finished => "finished",
            CallOutcome::Missed => "missed",
            CallOutcome::Declined => "declined",
            CallOutcome::EndedByModerator => "ended_by_moderator",
            CallOutcome::ServerRestart => "server_restart",
        }
    }

    pub fn parse(s: &str) -> Option<CallOutcome> {
        [
            CallOutcome::Finished,
            CallOutcome::Missed,
            CallOutcome::Declined,
            CallOutcome::EndedByModerator,
            CallOutcome::ServerRestart,
        ]
        .into_iter()
        .find(|o| o.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallPhase {
    /// A direct call the other party has not answered yet.
    Ringing,
    Active,
}

/// What a participant sends, as they announced it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Media {
    pub audio: bool,
    pub video: bool,
    pub screen: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Participant {
    pub media: Media,
    /// Their connection dropped; they have a grace period to come back.
    pub reconnecting: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CallRefusal {
    #[error("in a chat where only chat admins post, only they start a call")]
    AdminsStart,
    #[error("only the person called may decline, and only while it rings")]
    NotDeclinable,
    #[error("not in the call")]
    NotInCall,
    #[error("a moderator removed them from this call and has not let them back in")]
    Removed,
    #[error("a moderator switched the microphones off and has not let this person speak")]
    MicsLocked,
}

/// Who may start a call in a chat they are in: anyone, except that where only
/// chat admins post (announcement-only) only they start one — a class call is
/// the teacher's to open. Everyone in the chat may join a call once it runs.
pub fn may_start(announcement_only: bool, chat_admin: bool) -> Result<(), CallRefusal> {
    if announcement_only && !chat_admin { Err(CallRefusal::AdminsStart) } else { Ok(()) }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    kind: CallKind,
    direct: bool,
    started_by: i64,
    answered: bool,
    participants: BTreeMap<i64, Participant>,
    /// Removed by a moderator: kept out of this call until let back in.
    removed: BTreeSet<i64>,
    /// Raised hands, first raised first: the moderator's queue.
    hands: Vec<i64>,
    moderators: BTreeSet<i64>,
    /// «Выключить микрофоны у всех»: only moderators and the floor speak.
    mics_locked: bool,
    /// The one participant a moderator gave the floor while microphones are locked.
    floor: Option<i64>,
    /// The participant a moderator pinned as everyone's main view.
    presenter: Option<i64>,
}

impl Call {
    /// `person` starts a call and is its first participant.
    pub fn start(kind: CallKind, direct: bool, person: i64) -> Call {
        let mut call = Call {
            kind,
            direct,
            started_by: person,
            answered: false,
            participants: BTreeMap::new(),
            removed: BTreeSet::new(),
            hands: Vec::new(),
            moderators: BTreeSet::new(),
            mics_locked: false,
            floor: None,
            presenter: None,
        };
        call.join(person);
        call
    }

    pub fn kind(&self) -> CallKind {
        self.kind
    }

    pub fn direct(&self) -> bool {
        self.direct
    }

    pub fn started_by(&self) -> i64 {
        self.started_by
    }

    pub fn answered(&self) -> bool {
        self.answered
    }

    pub fn phase(&self) -> CallPhase {
        if self.direct && !self.answered { CallPhase::Ringing } else { CallPhase::Active }
    }

    pub fn participants(&self) -> &BTreeMap<i64, Participant> {
        &self.participants
    }

    pub fn is_in(&self, person: i64) -> bool {
        self.participants.contains_key(&person)
    }

    /// Whether `person` may join: not while removed from this call.
    pub fn may_join(&self, person: i64) -> Result<(), CallRefusal> {
        if self.removed.contains(&person) { Err(CallRefusal::Removed) } else { Ok(()) }
    }

    /// A join, or a rejoin after a dropped connection (the person keeps one
    /// seat). Anyone but the caller joining answers the call. The caller asks
    /// [`Call::may_join`] first. While microphones are locked, one who may
    /// not speak joins muted.
    pub fn join(&mut self, person: i64) {
        let media = Media { audio: self.may_speak(person), video: self.kind == CallKind::Video, screen: false };
        self.participants.insert(person, Participant { media, reconnecting: false });
        if person != self.started_by {
            self.answered = true;
        }
    }

    /// What `person` now sends, as far as it is allowed: while microphones
    /// are locked, audio stays off for one who may not speak (the rest
    /// applies). Returns what applies.
    pub fn set_media(&mut self, person: i64, media: Media) -> Result<Media, CallRefusal> {
        let audio = media.audio && self.may_speak(person);
        let p = self.participants.get_mut(&person).ok_or(CallRefusal::NotInCall)?;
        p.media = Media { audio, ..media };
        Ok(p.media)
    }

    /// A chat admin in a group call (see [`may_moderate`]); rejoining keeps it.
    pub fn add_moderator(&mut self, person: i64) {
        self.moderators.insert(person);
    }

    pub fn moderators(&self) -> &BTreeSet<i64> {
        &self.moderators
    }

    pub fn moderates(&self, person: i64) -> bool {
        self.moderators.contains(&person)
    }

    /// Whether `person` may have their microphone on: always, unless a
    /// moderator locked the microphones and this is neither a moderator
    /// nor the one given the floor.
    pub fn may_speak(&self, person: i64) -> bool {
        !self.mics_locked || self.moderates(person) || self.floor == Some(person)
    }

    pub fn mics_locked(&self) -> bool {
        self.mics_locked
    }

    pub fn floor(&self) -> Option<i64> {
        self.floor
    }

    /// «Выключить микрофоны у всех»: everyone but the moderators is muted and
    /// stays so until [`Call::unlock_mics`] or given the floor.
    pub fn mute_all(&mut self) {
        self.mics_locked = true;
        self.floor = None;
        for (_, p) in self.participants.iter_mut().filter(|(person, _)| !self.moderators.contains(*person)) {
            p.media.audio = false;
        }
    }

    /// Everyone may unmute themselves again (nobody is unmuted by it).
    pub fn unlock_mics(&mut self) {
        self.mics_locked = false;
        self.floor = None;
    }

    /// Gives the floor to `person` (lowering their hand), or takes it back
    /// (`None`). Returns the one who had it, now muted while locked.
    pub fn give_floor(&mut self, person: Option<i64>) -> Result<Option<i64>, CallRefusal> {
        if let Some(p) = person {
            if !self.is_in(p) {
                return Err(CallRefusal::NotInCall);
            }
            self.lower_hand(p);
        }
        let previous = std::mem::replace(&mut self.floor, person).filter(|&p| Some(p) != person);
        let muted = previous.filter(|&p| !self.may_speak(p));
        if let Some(p) = muted.and_then(|p| self.participants.get_mut(&p)) {
            p.media.audio = false;
        }
        Ok(muted)
    }

    /// A moderator muted them; they may unmute themselves.
    pub fn mute(&mut self, person: i64) -> Result<(), CallRefusal> {
        let p = self.participants.get_mut(&person).ok_or(CallRefusal::NotInCall)?;
        p.media.audio = false;
        Ok(())
    }

    pub fn disconnected(&mut self, person: i64) {
        if let Some(p) = self.participants.get_mut(&person) {
            p.reconnecting = true;
        }
    }

    /// `person` is out (hung up, removed, grace period over). `Some` when
    /// that ends the call.
    pub fn leave(&mut self, person: i64) -> Option<CallOutcome> {
        self.participants.remove(&person)?;
        self.lower_hand(person);
        if self.floor == Some(person) {
            self.floor = None;
        }
        if self.presenter == Some(person) {
            self.presenter = None;
        }
        if self.participants.is_empty() {
            return Some(if self.direct && !self.answered { CallOutcome::Missed } else { CallOutcome::Finished });
        }
        if self.direct {
            // The caller hung up before an answer, or one side of an answered
            // call did: a direct call needs both.
            return Some(if self.answered { CallOutcome::Finished } else { CallOutcome::Missed });
        }
        None
    }

    /// A moderator removes `person`: they [`Call::leave`] now and stay out
    /// until [`Call::let_back`].
    pub fn remove(&mut self, person: i64) -> Result<(), CallRefusal> {
        if !self.is_in(person) {
            return Err(CallRefusal::NotInCall);
        }
        self.removed.insert(person);
        Ok(())
    }

    /// A moderator lets a removed person join again.
    pub fn let_back(&mut self, person: i64) -> Result<(), CallRefusal> {
        if self.removed.remove(&person) { Ok(()) } else { Err(CallRefusal::NotInCall) }
    }

    /// Who a moderator removed, until let back.
    pub fn removed(&self) -> &BTreeSet<i64> {
        &self.removed
    }

    /// «Поднять руку»: `person` joins the end of the queue (once).
    pub fn raise_hand(&mut self, person: i64) -> Result<(), CallRefusal> {
        if !self.is_in(person) {
            return Err(CallRefusal::NotInCall);
        }
        if !self.hands.contains(&person) {
            self.hands.push(person);
        }
        Ok(())
    }

    /// Lowers their hand (by themselves or a moderator); false when it was not raised.
    pub fn lower_hand(&mut self, person: i64) -> bool {
        let before = self.hands.len();
        self.hands.retain(|&p| p != person);
        self.hands.len() != before
    }

    /// The raised hands in the order they were raised.
    pub fn hands(&self) -> &[i64] {
        &self.hands
    }

    /// Pins `person`'s picture as everyone's main view (`None`: unpins).
    pub fn pin(&mut self, person: Option<i64>) -> Result<(), CallRefusal> {
        if person.is_some_and(|p| !self.is_in(p)) {
            return Err(CallRefusal::NotInCall);
        }
        self.presenter = person;
        Ok(())
    }

    pub fn presenter(&self) -> Option<i64> {
        self.presenter
    }

    /// The person called declines while it rings.
    pub fn decline(&self, person: i64) -> Result<CallOutcome, CallRefusal> {
        if self.direct && !self.answered && person != self.started_by {
            Ok(CallOutcome::Declined)
        } else {
            Err(CallRefusal::NotDeclinable)
        }
    }

    /// The ringing timeout passed: an unanswered direct call is missed.
    pub fn ring_timeout(&self) -> Option<CallOutcome> {
        (self.direct && !self.answered).then_some(CallOutcome::Missed)
    }
}

/// Who may mute or remove participants and end a call for everyone: a chat
/// admin (the teacher of a class chat). A direct call has no moderator.
pub fn may_moderate(direct: bool, chat_admin: bool) -> bool {
    !direct && chat_admin
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEACHER: i64 = 1;
    const STUDENT: i64 = 2;
    const OTHER: i64 = 3;

    #[test]
    fn a_group_call_is_active_at_once_and_ends_with_its_last_participant() {
        let mut call = Call::start(CallKind::Video, false, TEACHER);
        assert_eq!(call.phase(), CallPhase::Active);
        call.join(STUDENT);
        call.join(OTHER);
        assert_eq!(call.leave(TEACHER), None);
        assert_eq!(call.leave(STUDENT), None);
        assert_eq!(call.leave(OTHER), Some(CallOutcome::Finished));
    }

    #[test]
    fn a_group_call_nobody_joined_still_finishes_rather_than_being_missed() {
        let mut call = Call::start(CallKind::Audio, false, TEACHER);
        assert_eq!(call.leave(TEACHER), Some(CallOutcome::Finished));
    }

    #[test]
    fn a_direct_call_rings_until_the_other_side_joins() {
        let mut call = Call::start(CallKind::Audio, true, TEACHER);
        assert_eq!(call.phase(), CallPhase::Ringing);
        // The caller rejoining (a reconnect) does not answer their own call.
        call.join(TEACHER);
        assert_eq!(call.phase(), CallPhase::Ringing);
        call.join(STUDENT);
        assert_eq!(call.phase(), CallPhase::Active);
        assert!(call.answered());
    }

    #[test]
    fn a_direct_call_ends_when_either_side_hangs_up_after_an_answer() {
        let mut call = Call::start(CallKind::Video, true, TEACHER);
        call.join(STUDENT);
        assert_eq!(call.leave(STUDENT), Some(CallOutcome::Finished));
    }

    #[test]
    fn an_unanswered_direct_call_is_missed_when_the_caller_gives_up_or_it_rings_out() {
        let mut call = Call::start(CallKind::Audio, true, TEACHER);
        assert_eq!(call.ring_timeout(), Some(CallOutcome::Missed));
        assert_eq!(call.leave(TEACHER), Some(CallOutcome::Missed));
    }

    #[test]
    fn only_the_person_called_declines_and_only_while_it_rings() {
        let mut call = Call::start(CallKind::Audio, true, TEACHER);
        assert_eq!(call.decline(TEACHER), Err(CallRefusal::NotDeclinable));
        assert_eq!(call.decline(STUDENT), Ok(CallOutcome::Declined));
        call.join(STUDENT);
        assert_eq!(call.decline(STUDENT), Err(CallRefusal::NotDeclinable));
        assert_eq!(call.ring_timeout(), None);
        let group = Call::start(CallKind::Audio, false, TEACHER);
        assert_eq!(group.decline(STUDENT), Err(CallRefusal::NotDeclinable));
    }

    #[test]
    fn a_rejoin_keeps_one_seat_and_clears_reconnecting() {
        let mut call = Call::start(CallKind::Video, false, TEACHER);
        call.join(STUDENT);
        call.disconnected(STUDENT);
        assert!(call.participants()[&STUDENT].reconnecting);
        call.join(STUDENT);
        assert_eq!(call.participants().len(), 2);
        assert!(!call.participants()[&STUDENT].reconnecting);
    }

    #[test]
    fn an_audio_call_starts_with_cameras_off_and_a_mute_sticks_until_unmuted() {
        let mut call = Call::start(CallKind::Audio, false, TEACHER);
        call.join(STUDENT);
        assert_eq!(call.participants()[&STUDENT].media, Media { audio: true, video: false, screen: false });
        call.mute(STUDENT).unwrap();
        assert!(!call.participants()[&STUDENT].media.audio);
        call.set_media(STUDENT, Media { audio: true, video: true, screen: false }).unwrap();
        assert!(call.participants()[&STUDENT].media.video);
        assert_eq!(call.mute(OTHER), Err(CallRefusal::NotInCall));
    }

    #[test]
    fn leaving_twice_changes_nothing() {
        let mut call = Call::start(CallKind::Audio, false, TEACHER);
        call.join(STUDENT);
        assert_eq!(call.leave(STUDENT), None);
        assert_eq!(call.leave(STUDENT), None);
        assert!(call.is_in(TEACHER));
    }

    #[test]
    fn chat_admins_moderate_group_calls_and_nobody_moderates_a_direct_one() {
        assert!(may_moderate(false, true));
        assert!(!may_moderate(false, false));
        assert!(!may_moderate(true, true));
    }

    #[test]
    fn a_removed_participant_stays_out_until_a_moderator_lets_them_back() {
        let mut call = Call::start(CallKind::Video, false, TEACHER);
        call.join(STUDENT);
        assert_eq!(call.remove(STUDENT), Ok(()));
        assert_eq!(call.leave(STUDENT), None);
        assert_eq!(call.may_join(STUDENT), Err(CallRefusal::Removed));
        assert_eq!(call.may_join(OTHER), Ok(()));
        assert_eq!(call.remove(STUDENT), Err(CallRefusal::NotInCall), "already out");
        assert_eq!(call.let_back(OTHER), Err(CallRefusal::NotInCall), "never removed");
        call.let_back(STUDENT).unwrap();
        assert_eq!(call.may_join(STUDENT), Ok(()));
        assert!(call.removed().is_empty());
    }

    #[test]
    fn raised_hands_queue_in_order_and_leaving_lowers_one() {
        let mut call = Call::start(CallKind::Audio, false, TEACHER);
        call.join(STUDENT);
        call.join(OTHER);
        call.raise_hand(OTHER).unwrap();
        call.raise_hand(STUDENT).unwrap();
        call.raise_hand(OTHER).unwrap();
        assert_eq!(call.hands(), [OTHER, STUDENT], "first raised first, once each");
        assert!(call.lower_hand(OTHER));
        assert!(!call.lower_hand(OTHER));
        call.raise_hand(OTHER).unwrap();
        assert_eq!(call.hands(), [STUDENT, OTHER], "raised again: at the end");
        call.leave(STUDENT);
        assert_eq!(call.hands(), [OTHER]);
        assert_eq!(call.raise_hand(STUDENT), Err(CallRefusal::NotInCall));
    }

    #[test]
    fn muting_everyone_locks_microphones_until_unlocked_or_the_floor_is_given() {
        let mut call = Call::start(CallKind::Audio, false, TEACHER);
        call.add_moderator(TEACHER);
        call.join(STUDENT);
        call.join(OTHER);
        call.mute_all();
        assert!(!call.participants()[&STUDENT].media.audio);
        assert!(call.participants()[&TEACHER].media.audio, "a moderator keeps speaking");
        let on = Media { audio: true, video: true, screen: false };
        let applied = call.set_media(STUDENT, on).unwrap();
        assert_eq!(applied, Media { audio: false, ..on }, "her camera turns on, her microphone stays off");
        call.leave(STUDENT);
        call.join(STUDENT);
        assert!(!call.participants()[&STUDENT].media.audio, "rejoining does not get round the lock");

        call.raise_hand(OTHER).unwrap();
        assert_eq!(call.give_floor(Some(OTHER)), Ok(None));
        assert!(call.hands().is_empty(), "the floor lowers the hand");
        assert!(call.set_media(OTHER, on).unwrap().audio);
        assert!(!call.may_speak(STUDENT));
        assert_eq!(call.give_floor(Some(STUDENT)), Ok(Some(OTHER)), "the floor moves: the last holder is muted");
        assert!(!call.participants()[&OTHER].media.audio);
        assert!(call.set_media(STUDENT, on).unwrap().audio);
        assert_eq!(call.give_floor(None), Ok(Some(STUDENT)));
        assert_eq!(call.give_floor(Some(TEACHER + 100)), Err(CallRefusal::NotInCall));

        call.unlock_mics();
        assert!(call.may_speak(OTHER) && call.set_media(OTHER, on).unwrap().audio);
        assert!(!call.participants()[&STUDENT].media.audio, "unlocking unmutes nobody");
    }

    #[test]
    fn the_floor_goes_with_its_holder() {
        let mut call = Call::start(CallKind::Audio, false, TEACHER);
        call.join(STUDENT);
        call.mute_all();
        call.give_floor(Some(STUDENT)).unwrap();
        call.leave(STUDENT);
        assert_eq!(call.floor(), None);
        call.join(STUDENT);
        assert!(!call.may_speak(STUDENT));
    }

    #[test]
    fn one_presenter_is_pinned_at_a_time_and_leaving_unpins() {
        let mut call = Call::start(CallKind::Video, false, TEACHER);
        call.join(STUDENT);
        call.pin(Some(STUDENT)).unwrap();
        call.pin(Some(TEACHER)).unwrap();
        assert_eq!(call.presenter(), Some(TEACHER), "pinning another replaces the first");
        call.pin(None).unwrap();
        assert_eq!(call.presenter(), None);
        assert_eq!(call.pin(Some(OTHER)), Err(CallRefusal::NotInCall));
        call.pin(Some(STUDENT)).unwrap();
        call.leave(STUDENT);
        assert_eq!(call.presenter(), None);
    }

    #[test]
    fn kinds_and_outcomes_round_trip_through_their_names() {
        for k in [CallKind::Audio, CallKind::Video] {
            assert_eq!(CallKind::parse(k.as_str()), Some(k));
        }
        for o in [
            CallOutcome::Finished,
            CallOutcome::Missed,
            CallOutcome::Declined,
            CallOutcome::EndedByModerator,
            CallOutcome::ServerRestart,
        ] {
            assert_eq!(CallOutcome::parse(o.as_str()), Some(o));
        }
        assert_eq!(CallKind::parse("hologram"), None);
    }

    #[test]
    fn in_an_announcement_only_chat_only_its_admins_start_a_call() {
        assert_eq!(may_start(true, false), Err(CallRefusal::AdminsStart));
        assert!(may_start(true, true).is_ok());
        assert!(may_start(false, false).is_ok());
    }
}
