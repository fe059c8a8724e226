//! Each consequence DESIGN §4 lists for the reconciler, as a scenario on a small
//! school.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use provisioning::{ChatKey, ChatState, MemberStatus, Source, desired};
use roster::{OrgKind, Role};

#[test]
fn a_student_moving_from_5a_to_5b_changes_class_and_subject_chats() {
    let mut world = World::new(small_school());
    assert_eq!(
        world.chats_of(MARIA),
        names(&["5А класс", "Английский язык 5А, группа 1", "Математика 5А", "Русский язык 5А"])
    );

    move_student(&mut world.roster, MARIA, CLASS_5B);
    let changes = world.reconcile();

    assert_eq!(world.chats_of(MARIA), names(&["5Б класс", "Математика 5Б", "Русский язык 5Б"]));
    let left: Vec<_> = changes.remove.iter().filter(|r| r.person_id == MARIA).collect();
    assert_eq!(left.len(), 4);
    assert!(left.iter().all(|r| r.reason == "переведён(а) в 5Б"), "{left:?}");
    // Her classmates and teachers are untouched.
    assert!(changes.remove.iter().all(|r| r.person_id == MARIA || r.person_id == ELENA));
}

#[test]
fn guardians_leave_the_old_parents_chat_unless_a_sibling_stays() {
    let mut world = World::new(small_school());
    assert_eq!(world.chats_of(ELENA), names(&["Родители 5А"]));

    move_student(&mut world.roster, MARIA, CLASS_5B);
    world.reconcile();
    assert_eq!(world.chats_of(ELENA), names(&["Родители 5А", "Родители 5Б"]), "Пётр is still in 5А");

    move_student(&mut world.roster, PETR, CLASS_5B);
    let changes = world.reconcile();
    assert_eq!(world.chats_of(ELENA), names(&["Родители 5Б"]));
    let elena_left: Vec<_> = changes.remove.iter().filter(|r| r.person_id == ELENA).collect();
    assert_eq!(elena_left.len(), 1);
    assert_eq!(elena_left[0].reason, "больше нет детей в 5А и не классный руководитель");
}

#[test]
fn a_replaced_class_teacher_loses_exactly_the_class_and_parents_chats() {
    const NOVIKOVA: i64 = 6;
    let mut roster = small_school();
    roster.people.push(provisioning::PersonFacts {
        person_id: NOVIKOVA,
        name: "Новикова Вера".to_owned(),
        roles: vec![Role::Teacher],
        linked: true,
    });
    let mut world = World::new(roster);
    let before = world.chats_of(PETROV);
    assert_eq!(before, names(&["5А класс", "Математика 5А", "Математика 5Б", "Родители 5А", "Учительская"]));

    world.roster.class_teachers.retain(|&(class, _)| class != CLASS_5A);
    world.roster.class_teachers.push((CLASS_5A, NOVIKOVA));
    world.reconcile();

    assert_eq!(world.chats_of(PETROV), names(&["Математика 5А", "Математика 5Б", "Учительская"]));
    assert_eq!(world.chats_of(NOVIKOVA), names(&["5А класс", "Родители 5А", "Учительская"]));
    assert!(world.chat("5А класс").members[&NOVIKOVA].admin);
    assert!(world.chat("Родители 5А").members[&NOVIKOVA].admin);
}

#[test]
fn a_teacher_who_stops_teaching_a_subject_leaves_only_that_subject_chat() {
    let mut world = World::new(small_school());
    let before = world.chats_of(PETROV);

    let math_5b = world.roster.sections.iter_mut().find(|s| s.section_id == MATH_5B).unwrap();
    math_5b.teachers.clear();
    let changes = world.reconcile();

    let mut expected = before;
    expected.remove("Математика 5Б");
    assert_eq!(world.chats_of(PETROV), expected);
    assert_eq!(changes.remove.len(), 1);
    assert_eq!(changes.remove[0].reason, "больше не учится и не преподаёт: Математика 5Б");
}

#[test]
fn an_employee_who_leaves_loses_exactly_the_staff_chats() {
    let mut world = World::new(small_school());
    assert_eq!(
        world.chats_of(KUZNETSOVA),
        names(&["Английский язык 5А, группа 1", "Английский язык 5А, группа 2", "Родители 5Б", "Учительская"])
    );
    assert_eq!(world.chats_of(ZAVHOZOV), names(&["Учительская"]));

    // Her teaching assignments linger in the roster; the lost role is enough.
    person_mut(&mut world.roster, KUZNETSOVA).roles = vec![Role::Guardian];
    person_mut(&mut world.roster, ZAVHOZOV).roles.clear();
    let changes = world.reconcile();

    assert_eq!(world.chats_of(KUZNETSOVA), names(&["Родители 5Б"]), "she is still Илья's mother");
    assert!(world.chats_of(ZAVHOZOV).is_empty());
    assert_eq!(changes.remove.len(), 4);
    assert!(changes.add.is_empty() && changes.create.is_empty());
}

#[test]
fn a_teacher_who_is_a_parent_gets_the_union() {
    let world = World::new(small_school());
    assert_eq!(
        world.chats_of(KUZNETSOVA),
        names(&["Английский язык 5А, группа 1", "Английский язык 5А, группа 2", "Родители 5Б", "Учительская"])
    );
    assert!(world.chat("Английский язык 5А, группа 1").members[&KUZNETSOVA].admin);
    let as_parent = &world.chat("Родители 5Б").members[&KUZNETSOVA];
    assert!(!as_parent.admin);
    assert_eq!(as_parent.reasons, ["родитель ученика 5Б"]);
    assert_eq!(world.chat("Учительская").members[&KUZNETSOVA].reasons, ["учитель"]);
}

#[test]
fn linking_activates_pending_memberships_and_unlinking_makes_them_pending() {
    let mut roster = small_school();
    set_linked(&mut roster, ILYA, false);
    let mut world = World::new(roster);
    let automatic = names(&["5Б класс", "Математика 5Б", "Русский язык 5Б"]);
    assert!(world.chats_of(ILYA).is_empty());
    assert_eq!(world.pending_chats_of(ILYA), automatic);

    set_linked(&mut world.roster, ILYA, true);
    let changes = world.reconcile();
    assert_eq!(changes.activate.len(), 3);
    assert_eq!(changes.change_count(), 3);
    assert_eq!(world.chats_of(ILYA), automatic);

    set_linked(&mut world.roster, ILYA, false);
    let changes = world.reconcile();
    assert_eq!(changes.deactivate.len(), 3);
    assert!(changes.deactivate.iter().all(|d| d.reason == "профиль отвязан"));
    assert!(world.chats_of(ILYA).is_empty());
    assert_eq!(world.pending_chats_of(ILYA), automatic);
}

#[test]
fn relinking_restores_automatic_chats_but_not_manual_ones() {
    let mut world = World::new(small_school());
    world.add_by_hand("5А класс", ILYA);
    assert!(world.plan().is_empty());
    assert!(world.chats_of(ILYA).contains("5А класс"));

    set_linked(&mut world.roster, ILYA, false);
    let changes = world.reconcile();
    assert!(world.chats_of(ILYA).is_empty(), "unlinking leaves every chat, manual ones too");
    assert_eq!(changes.remove.len(), 1);
    assert!(!world.chat("5А класс").members.contains_key(&ILYA));

    set_linked(&mut world.roster, ILYA, true);
    world.reconcile();
    assert_eq!(world.chats_of(ILYA), names(&["5Б класс", "Математика 5Б", "Русский язык 5Б"]));
}

#[test]
fn switching_the_module_off_hides_and_locks_chats_and_deletes_nothing() {
    let mut world = World::new(small_school());
    let before = world.chats.clone();

    world.roster.chats_enabled = false;
    let changes = world.reconcile();
    assert_eq!(changes.set_state.len(), before.len());
    assert_eq!(changes.change_count(), before.len(), "no member changes, no deletions");
    assert!(
        changes.set_state.iter().all(|c| c.to == ChatState::ReadOnlyHidden && c.reason == "модуль «Чаты» выключен")
    );
    assert_eq!(world.chats.len(), before.len());
    for (now, was) in world.chats.iter().zip(&before) {
        assert_eq!((now.chat_id, &now.name, &now.members), (was.chat_id, &was.name, &was.members));
        assert_eq!(now.state, ChatState::ReadOnlyHidden);
    }

    // While hidden, roster changes leave the chats as they are.
    move_student(&mut world.roster, MARIA, CLASS_5B);
    assert!(world.reconcile().is_empty());
}

#[test]
fn switching_it_back_on_shows_them_again() {
    let mut world = World::new(small_school());
    let before = world.chats.clone();
    world.roster.chats_enabled = false;
    world.reconcile();

    world.roster.chats_enabled = true;
    let changes = world.reconcile();
    assert!(changes.create.is_empty());
    assert!(changes.set_state.iter().all(|c| c.to == ChatState::Live && c.reason == "модуль «Чаты» включён"));
    assert_eq!(world.chats, before);
}

#[test]
fn a_music_school_gets_no_chats() {
    let mut roster = small_school();
    roster.kind = OrgKind::Other;
    assert!(desired(&roster).is_empty());
    let world = World::new(roster);
    assert!(world.chats.is_empty());

    // A school reclassified as not general education keeps its chats hidden.
    let mut world = World::new(small_school());
    world.roster.kind = OrgKind::Other;
    let changes = world.reconcile();
    assert!(changes.set_state.iter().all(|c| c.reason == "чаты есть только в общеобразовательных организациях"));
    assert!(world.chats.iter().all(|c| c.state == ChatState::ReadOnlyHidden));
}

#[test]
fn the_year_rollover_archives_last_years_chats_and_creates_new_ones() {
    const NEXT_YEAR: i64 = YEAR + 1;
    const CLASS_6A: i64 = 3;
    const CLASS_6B: i64 = 4;
    let mut world = World::new(small_school());
    let last_year = world.chats.clone();

    let s = &mut world.roster;
    s.current_year = Some(NEXT_YEAR);
    s.classes.push(provisioning::ClassFacts { class_id: CLASS_6A, name: "6А".to_owned(), year_id: Some(NEXT_YEAR) });
    s.classes.push(provisioning::ClassFacts { class_id: CLASS_6B, name: "6Б".to_owned(), year_id: Some(NEXT_YEAR) });
    s.class_teachers = vec![(CLASS_6A, PETROV), (CLASS_6B, SIDOROVA)];
    s.students = vec![(CLASS_6A, MARIA), (CLASS_6A, PETR), (CLASS_6B, ILYA)];
    s.sections.push(provisioning::SectionFacts {
        section_id: 200,
        class_id: Some(CLASS_6A),
        subject: "Алгебра".to_owned(),
        group: None,
        teachers: vec![PETROV],
        group_students: vec![],
    });
    let changes = world.reconcile();

    assert_eq!(changes.set_state.len(), last_year.len());
    assert!(changes.set_state.iter().all(|c| c.to == ChatState::Archived && c.reason == "учебный год завершён"));
    for old in &last_year {
        let now = world.chats.iter().find(|c| c.chat_id == old.chat_id).unwrap();
        assert_eq!(now.state, ChatState::Archived);
        assert_eq!(now.members, old.members, "archives keep who was there");
    }
    assert_eq!(world.chats_of(MARIA), names(&["6А класс", "Алгебра 6А"]));
    assert_eq!(world.chats_of(ADMIN), names(&["Учительская"]));
    let staff_rooms: Vec<_> = world.chats.iter().filter(|c| matches!(c.key, ChatKey::StaffRoom { .. })).collect();
    assert_eq!(staff_rooms.len(), 2, "last year's staff room is an archive, this year's is new");
}

#[test]
fn group_subdivisions_get_their_own_subject_chats_without_parents() {
    let world = World::new(small_school());
    let group_1 = world.chat("Английский язык 5А, группа 1");
    let group_2 = world.chat("Английский язык 5А, группа 2");
    assert_eq!(group_1.members.keys().copied().collect::<Vec<_>>(), [KUZNETSOVA, MARIA]);
    assert_eq!(group_2.members.keys().copied().collect::<Vec<_>>(), [KUZNETSOVA, PETR]);
    assert_eq!(group_1.members[&MARIA].reasons, ["ученик: Английский язык 5А, группа 1"]);

    for chat in world.chats.iter().filter(|c| matches!(c.key, ChatKey::Subject { .. })) {
        for parent in [ELENA, OLGA] {
            assert!(!chat.members.contains_key(&parent), "a parent in «{}»", chat.name);
        }
    }
    assert!(!world.chats_of(KUZNETSOVA).contains("Математика 5Б"), "her son's subjects are not hers");
}

#[test]
fn a_person_added_by_hand_stays() {
    let mut world = World::new(small_school());
    world.add_by_hand("5А класс", ZAVHOZOV);
    assert!(world.plan().is_empty());

    move_student(&mut world.roster, MARIA, CLASS_5B);
    world.reconcile();
    let kept = &world.chat("5А класс").members[&ZAVHOZOV];
    assert_eq!((kept.source, kept.status), (Source::Manual, MemberStatus::Active));

    // A manual member the roster also wants stays one manual member.
    world.add_by_hand("5Б класс", OLGA);
    person_mut(&mut world.roster, OLGA).roles.push(Role::Student);
    world.roster.students.push((CLASS_5B, OLGA));
    let changes = world.reconcile();
    assert!(changes.add.iter().all(|a| a.person_id != OLGA || a.chat_id != world.chat("5Б класс").chat_id));
    assert_eq!(world.chat("5Б класс").members[&OLGA].source, Source::Manual);
}

#[test]
fn a_roster_member_removed_by_hand_is_not_readded() {
    let mut world = World::new(small_school());
    world.remove_by_hand("5А класс", MARIA);
    assert!(world.plan().is_empty());

    set_linked(&mut world.roster, MARIA, false);
    world.reconcile();
    set_linked(&mut world.roster, MARIA, true);
    world.reconcile();
    assert_eq!(world.chat("5А класс").members[&MARIA].status, MemberStatus::RemovedByHand);
    assert!(!world.chats_of(MARIA).contains("5А класс"));
    assert!(world.chats_of(MARIA).contains("Математика 5А"), "only that one chat was taken from her");
}

#[test]
fn an_admin_appointed_or_revoked_by_hand_stays_so() {
    let mut world = World::new(small_school());
    let class = world.chat_mut("5А класс");
    class.members.get_mut(&MARIA).unwrap().admin = true;
    class.members.get_mut(&MARIA).unwrap().admin_overridden = true;
    class.members.get_mut(&PETROV).unwrap().admin = false;
    class.members.get_mut(&PETROV).unwrap().admin_overridden = true;
    assert!(world.plan().is_empty(), "the roster does not take back a hand-made admin change");

    // The roster still moves everything else: Maria leaves with her class.
    move_student(&mut world.roster, MARIA, CLASS_5B);
    world.reconcile();
    assert!(!world.chat("5А класс").members.contains_key(&MARIA));
    assert!(!world.chat("5А класс").members[&PETROV].admin);
}

#[test]
fn a_chat_archived_by_hand_stays_archived_but_keeps_its_members_current() {
    let mut world = World::new(small_school());
    let class = world.chat_mut("5А класс");
    class.state = ChatState::Archived;
    class.archived_by_hand = true;
    let id = class.chat_id;
    assert!(world.plan().is_empty());

    move_student(&mut world.roster, MARIA, CLASS_5B);
    world.reconcile();
    let archived = world.chats.iter().find(|c| c.chat_id == id).unwrap();
    assert_eq!(archived.state, ChatState::Archived);
    assert!(!archived.members.contains_key(&MARIA));

    // Restored by hand (the flag cleared), the roster takes it back as live.
    world.chats.iter_mut().find(|c| c.chat_id == id).unwrap().archived_by_hand = false;
    let changes = world.reconcile();
    assert_eq!(changes.set_state.len(), 1);
    assert_eq!(world.chat("5А класс").chat_id, id);
}

#[test]
fn renaming_a_class_renames_its_chats_unless_staff_renamed_them() {
    let mut world = World::new(small_school());
    let parents = world.chat_mut("Родители 5А");
    parents.name = "Родители нашего класса".to_owned();
    parents.name_overridden = true;
    let ids_before: Vec<i64> = world.chats.iter().map(|c| c.chat_id).collect();

    world.roster.classes.iter_mut().find(|c| c.class_id == CLASS_5A).unwrap().name = "5В".to_owned();
    let changes = world.reconcile();

    let renamed: Vec<(&str, &str)> = changes.rename.iter().map(|r| (r.from.as_str(), r.to.as_str())).collect();
    assert_eq!(
        renamed,
        [
            ("5А класс", "5В класс"),
            ("Математика 5А", "Математика 5В"),
            ("Русский язык 5А", "Русский язык 5В"),
            ("Английский язык 5А, группа 1", "Английский язык 5В, группа 1"),
            ("Английский язык 5А, группа 2", "Английский язык 5В, группа 2"),
        ]
    );
    assert_eq!(world.chats.iter().map(|c| c.chat_id).collect::<Vec<_>>(), ids_before, "same chats, new names");
    assert_eq!(world.chat("Родители нашего класса").members[&ELENA].reasons, ["родитель ученика 5В"]);
    assert_eq!(world.chat("5В класс").members[&MARIA].reasons, ["ученик 5В"]);
}

#[test]
fn reconciling_twice_changes_nothing() {
    let mut world = World::new(small_school());
    assert!(world.plan().is_empty());
    let before = world.chats.clone();
    assert!(world.reconcile().is_empty());
    assert_eq!(world.chats, before);

    move_student(&mut world.roster, MARIA, CLASS_5B);
    set_linked(&mut world.roster, PETR, false);
    let first = world.plan();
    assert_eq!(first, world.plan(), "the same inputs make the same plan");
    assert_eq!(first.to_string(), world.plan().to_string());
    assert!(!world.reconcile().is_empty());
    assert!(world.reconcile().is_empty());
}

#[test]
fn the_dry_run_text_names_chats_people_and_reasons() {
    let mut roster = small_school();
    set_linked(&mut roster, ILYA, false);
    let first = World { roster: roster.clone(), chats: Vec::new(), next_id: 1 }.plan().to_string();
    assert!(first.contains("Новый чат «Учительская» (учительская текущего учебного года)"), "{first}");
    assert!(first.contains("  + Директорова Анна, администратор (администратор)"), "{first}");
    assert!(first.contains("  + Смирнов Илья, ждёт привязки профиля (ученик 5Б)"), "{first}");

    let mut world = World::new(roster);
    move_student(&mut world.roster, MARIA, CLASS_5B);
    let changes = world.plan();
    let text = changes.to_string();
    println!("{text}");
    assert!(text.starts_with("Организация 1: изменений 8 (добавления: 4, удаления: 4)."), "{text}");
    assert!(text.contains("Чат «5А класс» (№"), "{text}");
    assert!(text.contains("  − Иванова Мария (переведён(а) в 5Б)"), "{text}");
    assert!(text.contains("  + Иванова Мария (ученик 5Б)"), "{text}");
    assert!(text.contains("  + Иванова Елена (родитель ученика 5Б)"), "{text}");
    assert!(text.contains("  + Иванова Мария (ученик: Математика 5Б)"), "{text}");
    assert!(world.plan() == changes, "printing a plan applies nothing");
    assert_eq!(world.reconcile().to_string(), text);
    assert_eq!(world.plan().to_string(), "Организация 1: изменений нет.\n");
}
