//! Who may start a direct message with whom (DESIGN §6, safeguarding).
//!
//! A [`DmPolicy`] gives, for every pair of parties (initiator → recipient), a
//! [`DmRule`]: always, only when the two share a class, only within a family, or
//! never. An organisation's administrators may edit it; [`DmPolicy::default`] is
//! DESIGN §6: "students can write direct messages only to staff and to
//! classmates; adults outside a student's classes cannot start a direct message
//! with that student".
//!
//! | from ↓ / to →  | Student     | Guardian    | Teacher | Administrator | OtherStaff |
//! |----------------|-------------|-------------|---------|---------------|------------|
//! | Student        | SharedClass | Family      | Allowed | Allowed       | Allowed    |
//! | Guardian       | Family      | SharedClass | Allowed | Allowed       | Allowed    |
//! | Teacher        | SharedClass | Allowed     | Allowed | Allowed       | Allowed    |
//! | Administrator  | Allowed     | Allowed     | Allowed | Allowed       | Allowed    |
//! | OtherStaff     | Never       | Allowed     | Allowed | Allowed       | Allowed    |
//!
//! A school nurse or librarian (other staff) writes to a student through the
//! class chat or to the parents; the school's administration may write to any
//! student; parents write to each other when their children share a class.
//!
//! A person may hold several parties (a teacher who is also a parent): they may
//! start a direct message when *any* of their parties may write to *any* of the
//! recipient's parties, the union, as in provisioning (DESIGN §4).
//!
//! Only *starting* a direct message is decided here: once it exists, both people
//! are members of a two-person chat and [`crate::permissions`] applies.

use std::collections::BTreeMap;

use roster::Role;
use serde::{Deserialize, Serialize};

/// A person's party in a direct message: their role in the organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    Student,
    Guardian,
    Teacher,
    Administrator,
    OtherStaff,
}

impl Party {
    pub const ALL: [Party; 5] =
        [Party::Student, Party::Guardian, Party::Teacher, Party::Administrator, Party::OtherStaff];

    pub fn of(role: Role) -> Party {
        match role {
            Role::Student => Party::Student,
            Role::Guardian => Party::Guardian,
            Role::Teacher => Party::Teacher,
            Role::Administrator => Party::Administrator,
            Role::OtherStaff => Party::OtherStaff,
        }
    }

    /// The same strings as [`roster::Role::as_str`].
    pub fn as_str(self) -> &'static str {
        match self {
            Party::Student => "student",
            Party::Guardian => "guardian",
            Party::Teacher => "teacher",
            Party::Administrator => "administrator",
            Party::OtherStaff => "other_staff",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Party::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// The school's employees.
    pub fn is_staff(self) -> bool {
        matches!(self, Party::Teacher | Party::Administrator | Party::OtherStaff)
    }
}

impl From<Role> for Party {
    fn from(role: Role) -> Self {
        Party::of(role)
    }
}

/// When one party may start a direct message with another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DmRule {
    /// Always.
    Allowed,
    /// When the two share a class ([`PersonDmFacts::classes`]).
    SharedClass,
    /// When one is in the other's family ([`PersonDmFacts::family`]).
    Family,
    /// Never.
    Never,
}

impl DmRule {
    pub const ALL: [DmRule; 4] = [DmRule::Allowed, DmRule::SharedClass, DmRule::Family, DmRule::Never];

    pub fn as_str(self) -> &'static str {
        match self {
            DmRule::Allowed => "allowed",
            DmRule::SharedClass => "shared_class",
            DmRule::Family => "family",
            DmRule::Never => "never",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        DmRule::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// An organisation's direct-message policy: a rule for each of the 25
/// (initiator, recipient) pairs. Built from [`DmPolicy::default`] and edited
/// with [`DmPolicy::set`], so every pair always has a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DmPolicy {
    rules: BTreeMap<(Party, Party), DmRule>,
}

/// DESIGN §6, the table in the module documentation.
fn default_rule(from: Party, to: Party) -> DmRule {
    use Party::*;
    match (from, to) {
        (Student, Student) => DmRule::SharedClass,
        (Student, Guardian) => DmRule::Family,
        (Student, _) => DmRule::Allowed,
        (Guardian, Student) => DmRule::Family,
        (Guardian, Guardian) => DmRule::SharedClass,
        (Guardian, _) => DmRule::Allowed,
        (Teacher, Student) => DmRule::SharedClass,
        (Administrator, Student) => DmRule::Allowed,
        (OtherStaff, Student) => DmRule::Never,
        (Teacher | Administrator | OtherStaff, Guardian | Teacher | Administrator | OtherStaff) => DmRule::Allowed,
    }
}

impl Default for DmPolicy {
    fn default() -> Self {
        let rules = Party::ALL
            .into_iter()
            .flat_map(|from| Party::ALL.into_iter().map(move |to| ((from, to), default_rule(from, to))))
            .collect();
        DmPolicy { rules }
    }
}

impl DmPolicy {
    pub fn rule(&self, from: Party, to: Party) -> DmRule {
        // Every pair is present by construction; `Never` keeps it safe if not.
        self.rules.get(&(from, to)).copied().unwrap_or(DmRule::Never)
    }

    pub fn set(&mut self, from: Party, to: Party, rule: DmRule) {
        self.rules.insert((from, to), rule);
    }

    /// All 25 pairs, ordered by initiator, then recipient, in [`Party::ALL`] order.
    pub fn entries(&self) -> impl Iterator<Item = (Party, Party, DmRule)> {
        self.rules.iter().map(|(&(from, to), &rule)| (from, to, rule))
    }
}

/// What the policy needs to know about one of the two people, in the
/// organisation the direct message is started in.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PersonDmFacts {
    pub person_id: i64,
    /// Their active roles there, as parties.
    pub parties: Vec<Party>,
    /// The classes they are in, each with the party that puts them there: a
    /// student studies in it, a teacher teaches it (any section, or as class
    /// teacher), a guardian has a child in it. Per party, so that a teacher who
    /// is also a parent does not reach their child's classmates as a teacher.
    pub classes: Vec<(Party, i64)>,
    /// Person ids: their children if they are a guardian, their guardians if
    /// they are a student.
    pub family: Vec<i64>,
}

/// Why a direct message may not be started. The variants are stable: the server
/// maps them to error codes and translated messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DmRefusal {
    #[error("a direct message needs another person")]
    SamePerson,
    /// No pair of parties allows it; `from → to` is the first pair tried (in
    /// [`Party::ALL`] order) and the rule that refused it.
    #[error("a direct message from {} to {} is not allowed here (rule: {})", from.as_str(), to.as_str(), rule.as_str())]
    Forbidden { from: Party, to: Party, rule: DmRule },
    /// One of the two holds no role in the organisation (they left the school):
    /// there is no pair of parties to allow it.
    #[error("the person holds no role in this organisation")]
    NoParty,
}

fn share_a_class(a: &PersonDmFacts, a_party: Party, b: &PersonDmFacts, b_party: Party) -> bool {
    let classes_as = |p: &PersonDmFacts, party: Party| {
        p.classes.iter().filter(move |(through, _)| *through == party).map(|(_, class)| *class).collect::<Vec<_>>()
    };
    let b_classes = classes_as(b, b_party);
    classes_as(a, a_party).iter().any(|class| b_classes.contains(class))
}

fn family_of(a: &PersonDmFacts, b: &PersonDmFacts) -> bool {
    a.family.contains(&b.person_id) || b.family.contains(&a.person_id)
}

fn satisfied(rule: DmRule, from: (&PersonDmFacts, Party), to: (&PersonDmFacts, Party)) -> bool {
    let ((from, from_party), (to, to_party)) = (from, to);
    match rule {
        DmRule::Allowed => true,
        DmRule::SharedClass => share_a_class(from, from_party, to, to_party),
        DmRule::Family => family_of(from, to),
        DmRule::Never => false,
    }
}

fn sorted(parties: &[Party]) -> Vec<Party> {
    let mut parties = parties.to_vec();
    parties.sort();
    parties.dedup();
    parties
}

/// May `from` start a direct message with `to` under `policy`? Yes when any of
/// `from`'s parties may write to any of `to`'s.
pub fn may_start_direct(policy: &DmPolicy, from: &PersonDmFacts, to: &PersonDmFacts) -> Result<(), DmRefusal> {
    if from.person_id == to.person_id {
        return Err(DmRefusal::SamePerson);
    }
    let (from_parties, to_parties) = (sorted(&from.parties), sorted(&to.parties));
    let mut first_refusal = None;
    for &from_party in &from_parties {
        for &to_party in &to_parties {
            let rule = policy.rule(from_party, to_party);
            if satisfied(rule, (from, from_party), (to, to_party)) {
                return Ok(());
            }
            first_refusal.get_or_insert(DmRefusal::Forbidden { from: from_party, to: to_party, rule });
        }
    }
    Err(first_refusal.unwrap_or(DmRefusal::NoParty))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Party::*;

    const CLASS_5A: i64 = 501;
    const CLASS_5B: i64 = 502;

    /// A person whose every party is in each of `classes`.
    fn person(person_id: i64, parties: &[Party], classes: &[i64], family: &[i64]) -> PersonDmFacts {
        let classes = parties.iter().flat_map(|p| classes.iter().map(move |c| (*p, *c))).collect();
        PersonDmFacts { person_id, parties: parties.to_vec(), classes, family: family.to_vec() }
    }

    // 5А: Маша (1) and Петя (2), Маша's mother (11), Петя's father (12), the class teacher (21).
    // 5Б: Коля (3), his mother (13), the teacher of 5Б (22).
    fn masha() -> PersonDmFacts {
        person(1, &[Student], &[CLASS_5A], &[11])
    }
    fn petya() -> PersonDmFacts {
        person(2, &[Student], &[CLASS_5A], &[12])
    }
    fn kolya() -> PersonDmFacts {
        person(3, &[Student], &[CLASS_5B], &[13])
    }
    fn mashas_mother() -> PersonDmFacts {
        person(11, &[Guardian], &[CLASS_5A], &[1])
    }
    fn petyas_father() -> PersonDmFacts {
        person(12, &[Guardian], &[CLASS_5A], &[2])
    }
    fn kolyas_mother() -> PersonDmFacts {
        person(13, &[Guardian], &[CLASS_5B], &[3])
    }
    fn teacher_of_5a() -> PersonDmFacts {
        person(21, &[Teacher], &[CLASS_5A], &[])
    }
    fn teacher_of_5b() -> PersonDmFacts {
        person(22, &[Teacher], &[CLASS_5B], &[])
    }
    fn administrator() -> PersonDmFacts {
        person(31, &[Administrator], &[], &[])
    }
    fn nurse() -> PersonDmFacts {
        person(41, &[OtherStaff], &[], &[])
    }

    fn start(from: &PersonDmFacts, to: &PersonDmFacts) -> Result<(), DmRefusal> {
        may_start_direct(&DmPolicy::default(), from, to)
    }

    fn forbidden(from: Party, to: Party, rule: DmRule) -> Result<(), DmRefusal> {
        Err(DmRefusal::Forbidden { from, to, rule })
    }

    #[test]
    fn a_student_writes_to_a_classmate() {
        assert_eq!(start(&masha(), &petya()), Ok(()));
    }

    #[test]
    fn a_student_cannot_write_to_a_student_of_another_class() {
        assert_eq!(start(&masha(), &kolya()), forbidden(Student, Student, DmRule::SharedClass));
    }

    #[test]
    fn a_student_writes_to_any_staff() {
        for staff in [teacher_of_5a(), teacher_of_5b(), administrator(), nurse()] {
            assert_eq!(start(&masha(), &staff), Ok(()), "{staff:?}");
        }
    }

    #[test]
    fn a_student_writes_to_their_own_parent_only() {
        assert_eq!(start(&masha(), &mashas_mother()), Ok(()));
        assert_eq!(start(&masha(), &petyas_father()), forbidden(Student, Guardian, DmRule::Family));
    }

    #[test]
    fn a_parent_writes_to_their_own_child() {
        assert_eq!(start(&mashas_mother(), &masha()), Ok(()));
    }

    #[test]
    fn a_parent_cannot_write_to_another_classs_student() {
        assert_eq!(start(&mashas_mother(), &kolya()), forbidden(Guardian, Student, DmRule::Family));
    }

    #[test]
    fn a_parent_cannot_write_to_their_childs_classmate_either() {
        assert_eq!(start(&mashas_mother(), &petya()), forbidden(Guardian, Student, DmRule::Family));
    }

    #[test]
    fn parents_whose_children_share_a_class_write_to_each_other() {
        assert_eq!(start(&mashas_mother(), &petyas_father()), Ok(()));
        assert_eq!(start(&mashas_mother(), &kolyas_mother()), forbidden(Guardian, Guardian, DmRule::SharedClass));
    }

    #[test]
    fn a_parent_writes_to_any_staff_and_staff_to_any_parent() {
        for staff in [teacher_of_5a(), teacher_of_5b(), administrator(), nurse()] {
            assert_eq!(start(&kolyas_mother(), &staff), Ok(()), "{staff:?}");
            assert_eq!(start(&staff, &kolyas_mother()), Ok(()), "{staff:?}");
        }
    }

    #[test]
    fn a_teacher_writes_to_students_of_their_classes_only() {
        assert_eq!(start(&teacher_of_5a(), &masha()), Ok(()));
        assert_eq!(start(&teacher_of_5a(), &kolya()), forbidden(Teacher, Student, DmRule::SharedClass));
    }

    #[test]
    fn the_administration_writes_to_any_student() {
        assert_eq!(start(&administrator(), &kolya()), Ok(()));
    }

    #[test]
    fn other_staff_never_start_a_direct_message_with_a_student() {
        assert_eq!(start(&nurse(), &masha()), forbidden(OtherStaff, Student, DmRule::Never));
        let nurse_in_5a = person(41, &[OtherStaff], &[CLASS_5A], &[]);
        assert_eq!(start(&nurse_in_5a, &masha()), forbidden(OtherStaff, Student, DmRule::Never));
    }

    #[test]
    fn staff_write_to_each_other() {
        let staff = [teacher_of_5a(), teacher_of_5b(), administrator(), nurse()];
        for from in &staff {
            for to in &staff {
                if from.person_id != to.person_id {
                    assert_eq!(start(from, to), Ok(()), "{from:?} → {to:?}");
                }
            }
        }
    }

    #[test]
    fn a_teacher_who_is_also_a_parent_gets_the_union() {
        // Teaches 5Б, and is Маша's father: may write to 5Б's students as their
        // teacher and to Маша as her parent.
        let teacher_father = PersonDmFacts {
            classes: vec![(Teacher, CLASS_5B), (Guardian, CLASS_5A)],
            ..person(23, &[Teacher, Guardian], &[], &[1])
        };
        assert_eq!(start(&teacher_father, &kolya()), Ok(()));
        assert_eq!(start(&teacher_father, &masha()), Ok(()));
        assert_eq!(start(&teacher_father, &petyas_father()), Ok(()));
    }

    #[test]
    fn a_teacher_who_is_a_parent_does_not_reach_their_childs_classmates_as_a_teacher() {
        // Teaches 5Б, father of Маша in 5А: Петя (5А) is his child's classmate,
        // not his student.
        let teacher_father = PersonDmFacts {
            classes: vec![(Teacher, CLASS_5B), (Guardian, CLASS_5A)],
            ..person(23, &[Teacher, Guardian], &[], &[1])
        };
        assert!(start(&teacher_father, &petya()).is_err());
    }

    #[test]
    fn a_recipient_with_several_parties_is_reachable_through_any_of_them() {
        // Коля's mother also works as the school librarian: Маша may write to her as staff.
        let librarian_mother = person(13, &[Guardian, OtherStaff], &[CLASS_5B], &[3]);
        assert_eq!(start(&masha(), &librarian_mother), Ok(()));
        assert_eq!(start(&librarian_mother, &masha()), forbidden(Guardian, Student, DmRule::Family));
    }

    #[test]
    fn nobody_starts_a_direct_message_with_themselves() {
        assert_eq!(start(&administrator(), &administrator()), Err(DmRefusal::SamePerson));
    }

    #[test]
    fn a_person_without_a_role_in_the_organisation_is_refused() {
        let former_student = person(4, &[], &[], &[]);
        assert_eq!(start(&former_student, &teacher_of_5a()), Err(DmRefusal::NoParty));
        assert_eq!(start(&administrator(), &former_student), Err(DmRefusal::NoParty));
    }

    #[test]
    fn an_edited_policy_takes_effect() {
        let mut policy = DmPolicy::default();
        policy.set(Student, Student, DmRule::Never);
        policy.set(OtherStaff, Student, DmRule::SharedClass);
        assert_eq!(policy.rule(Student, Student), DmRule::Never);
        assert_eq!(may_start_direct(&policy, &masha(), &petya()), forbidden(Student, Student, DmRule::Never));
        let nurse_in_5a = person(41, &[OtherStaff], &[CLASS_5A], &[]);
        assert_eq!(may_start_direct(&policy, &nurse_in_5a, &masha()), Ok(()));
        assert_eq!(may_start_direct(&policy, &nurse(), &masha()), forbidden(OtherStaff, Student, DmRule::SharedClass));
    }

    #[test]
    fn the_default_policy_is_design_section_6() {
        use DmRule::*;
        let expected = [
            [SharedClass, Family, Allowed, Allowed, Allowed],  // Student →
            [Family, SharedClass, Allowed, Allowed, Allowed],  // Guardian →
            [SharedClass, Allowed, Allowed, Allowed, Allowed], // Teacher →
            [Allowed, Allowed, Allowed, Allowed, Allowed],     // Administrator →
            [Never, Allowed, Allowed, Allowed, Allowed],       // OtherStaff →
        ];
        let policy = DmPolicy::default();
        for (from, row) in Party::ALL.into_iter().zip(expected) {
            for (to, rule) in Party::ALL.into_iter().zip(row) {
                assert_eq!(policy.rule(from, to), rule, "{from:?} → {to:?}");
            }
        }
    }

    #[test]
    fn entries_list_all_25_pairs_in_order() {
        let mut policy = DmPolicy::default();
        policy.set(Guardian, Guardian, DmRule::Never);
        let entries: Vec<_> = policy.entries().collect();
        assert_eq!(entries.len(), 25);
        let pairs: Vec<_> = entries.iter().map(|&(from, to, _)| (from, to)).collect();
        let expected: Vec<_> =
            Party::ALL.into_iter().flat_map(|f| Party::ALL.into_iter().map(move |t| (f, t))).collect();
        assert_eq!(pairs, expected);
        assert!(entries.contains(&(Guardian, Guardian, DmRule::Never)));
    }

    #[test]
    fn parties_come_from_roster_roles_with_the_same_names() {
        for role in Role::ALL {
            assert_eq!(Party::of(role).as_str(), role.as_str());
            assert_eq!(Party::of(role).is_staff(), role.is_employee());
        }
        for party in Party::ALL {
            assert_eq!(Party::parse(party.as_str()), Some(party));
        }
        assert_eq!(Party::parse("janitor"), None);
    }

    #[test]
    fn rule_names_round_trip() {
        let names: Vec<_> = DmRule::ALL.into_iter().map(DmRule::as_str).collect();
        assert_eq!(names, ["allowed", "shared_class", "family", "never"]);
        for rule in DmRule::ALL {
            assert_eq!(DmRule::parse(rule.as_str()), Some(rule));
        }
        assert_eq!(DmRule::parse("sometimes"), None);
    }
}
