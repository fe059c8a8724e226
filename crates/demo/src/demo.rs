//! The demo: Школа № 17 with everything a visitor should find, a music school some
//! of its students also attend, and a small gymnasium with chats switched off.

use crate::school::{
    self, Dept, Post, Rng, Roster, School, SchoolSpec, Slot, Target, add_child, build_school, new_family,
};

pub const PASSWORD: &str = "parta2026";
const SEED: u64 = 0x5041_5254_4131_3737;

const LETTERS: &[&str] = &["А", "Б", "В"];
const ONE_LETTER: &[&str] = &["А"];

static S17_ADMINS: [Post; 2] = [
    Post { title: "директор", role: "principal", female_percent: 70 },
    Post {
        title: "заместитель директора по учебно-воспитательной работе",
        role: "siteAdministrator",
        female_percent: 85,
    },
];
static S17_STAFF: [Post; 3] = [
    Post { title: "педагог-психолог", role: "counselor", female_percent: 90 },
    Post { title: "библиотекарь", role: "aide", female_percent: 95 },
    Post { title: "социальный педагог", role: "counselor", female_percent: 90 },
];
static G5_ADMINS: [Post; 1] = [Post { title: "директор", role: "principal", female_percent: 60 }];

/// Someone a visitor can log in as, and why they are worth logging in as.
pub struct Account {
    pub person: usize,
    pub role: &'static str,
    pub org: usize,
    pub note: String,
}

pub struct Demo {
    pub roster: Roster,
    pub accounts: Vec<Account>,
}

/// Where the parent of two lives: a student of 5А whose family gets an older child in 7Б.
const SIBLING_YOUNGER: Slot = Slot { grade: 5, letter: 0, index: 3 };
const SIBLING_OLDER: Slot = Slot { grade: 7, letter: 1, index: 0 };
/// The teacher who is also a parent has a child in 3Б.
const TEACHER_CHILD: Slot = Slot { grade: 3, letter: 1, index: 5 };

pub fn build() -> Demo {
    let mut roster = Roster::new("");
    let mut rng = Rng::new(SEED);

    let s17 = build_school(
        &mut roster,
        &SchoolSpec {
            id: "s17".into(),
            name: "Школа № 17".into(),
            chats: Some(true),
            grades: 1..=11,
            letters: LETTERS,
            class_size: (22, 28),
            load: 16,
            admins: &S17_ADMINS,
            other_staff: &S17_STAFF,
            two_guardians_percent: 75,
            sibling_percent: 6,
            forced_siblings: vec![(SIBLING_YOUNGER, SIBLING_OLDER)],
            teacher_parent: Some((Dept::English, TEACHER_CHILD)),
        },
        &mut rng,
    );

    let c5a = s17.class_at(&roster, "5А");
    // The showcase student: a girl of 5А with a mother and no sibling in the school,
    // so her account and her mother's tell one simple story.
    let star = c5a.and_then(|c| {
        s17.students[c].iter().copied().find(|&(s, f)| {
            let fam = &s17.families[f];
            roster.people[s].female
                && fam.mother.is_some()
                && fam.children.len() == 1
                && fam.mother != s17.teacher_parent
                && fam.father != s17.teacher_parent
        })
    });

    let (music_org, music_director, music_class) = build_music_school(&mut roster, &mut rng, &s17, star.map(|s| s.0));

    let g5 = build_school(
        &mut roster,
        &SchoolSpec {
            id: "g5".into(),
            name: "Гимназия № 5".into(),
            chats: Some(false),
            grades: 5..=6,
            letters: ONE_LETTER,
            class_size: (22, 28),
            load: 18,
            admins: &G5_ADMINS,
            other_staff: &[],
            two_guardians_percent: 80,
            sibling_percent: 5,
            forced_siblings: Vec::new(),
            teacher_parent: None,
        },
        &mut rng,
    );

    let mut accounts = Vec::new();
    let org17 = s17.org;
    if let Some(&director) = s17.admins.first() {
        accounts.push(Account {
            person: director, role: "administrator", org: org17, note: "директор школы".into()
        });
    }
    if let Some(c) = c5a {
        let t = &s17.teachers[s17.class_teachers[c]];
        let note = format!("классный руководитель 5А, учитель {}", subjects_phrase(&t.depts));
        accounts.push(Account { person: t.person, role: "teacher", org: org17, note });
        if let Some((ti, t)) =
            s17.teachers.iter().enumerate().find(|(_, t)| t.depts.contains(&Dept::Math) && t.classes.contains(&c))
        {
            let classes: Vec<&str> = t.classes.iter().map(|&k| roster.classes[s17.classes[k]].title.as_str()).collect();
            let mut note = format!("учитель {} {}", subjects_phrase(&t.depts), classes.join(", "));
            if let Some(k) = s17.class_teachers.iter().position(|&x| x == ti) {
                note.push_str(&format!("; классный руководитель {}", roster.classes[s17.classes[k]].title));
            }
            accounts.push(Account { person: t.person, role: "teacher", org: org17, note });
        }
    }
    if let Some((student, family)) = star {
        let p = &roster.people[student];
        let mut note = format!("{} 5А", if p.female { "ученица" } else { "ученик" });
        if let Some(mc) = music_class {
            note.push_str(&format!(", занимается в музыкальной школе ({})", roster.classes[mc].title));
        }
        accounts.push(Account { person: student, role: "student", org: org17, note });
        if let Some(mother) = s17.families[family].mother {
            let note = format!("мама {}", child_phrase(&roster, &s17, student));
            accounts.push(Account { person: mother, role: "guardian", org: org17, note });
        }
        // A classmate, so a class call can be tried with two students.
        let classmate = c5a.and_then(|c| s17.students[c].iter().map(|&(s, _)| s).find(|&s| s != student));
        if let Some(classmate) = classmate {
            let note = format!("{} 5А", if roster.people[classmate].female { "ученица" } else { "ученик" });
            accounts.push(Account { person: classmate, role: "student", org: org17, note });
        }
    }
    if let Some(tp) = s17.teacher_parent {
        let teaches = s17.teachers.iter().find(|t| t.person == tp).map_or(String::new(), |t| subjects_phrase(&t.depts));
        let children = s17
            .families
            .iter()
            .find(|f| f.mother == Some(tp) || f.father == Some(tp))
            .map_or(String::new(), |f| children_phrase(&roster, &s17, &f.children));
        let parent = if roster.people[tp].female { "мама" } else { "папа" };
        let note = format!("учитель и родитель: учитель {teaches}, {parent} {children}");
        accounts.push(Account { person: tp, role: "teacher", org: org17, note });
    }
    if let Some((_, f)) = s17.student_at(&roster, SIBLING_YOUNGER) {
        let family = &s17.families[f];
        if let Some(father) = family.father {
            let note = format!("папа {}", children_phrase(&roster, &s17, &family.children));
            accounts.push(Account { person: father, role: "guardian", org: org17, note });
        }
    }
    if let Some(&staff) = s17.other_staff.first() {
        accounts.push(Account { person: staff, role: "other_staff", org: org17, note: S17_STAFF[0].title.into() });
    }
    if let Some(&director) = g5.admins.first() {
        let note = "директор гимназии; в гимназии чаты выключены".into();
        accounts.push(Account { person: director, role: "administrator", org: g5.org, note });
    }
    accounts.push(Account {
        person: music_director,
        role: "administrator",
        org: music_org,
        note: "директор музыкальной школы; в ней чатов нет".into(),
    });

    for a in &accounts {
        roster.people[a.person].password = Some(PASSWORD);
    }
    Demo { roster, accounts }
}

fn subjects_phrase(depts: &[Dept]) -> String {
    let names: Vec<&str> = depts.iter().map(|d| d.genitive()).collect();
    names.join(" и ")
}

/// "ученицы 5А".
fn child_phrase(roster: &Roster, s: &School, student: usize) -> String {
    let class = s
        .students
        .iter()
        .position(|l| l.iter().any(|&(x, _)| x == student))
        .map_or("", |c| roster.classes[s.classes[c]].title.as_str());
    let word = if roster.people[student].female { "ученицы" } else { "ученика" };
    format!("{word} {class}")
}

/// "ученика 5А и ученицы 7Б".
fn children_phrase(roster: &Roster, s: &School, children: &[usize]) -> String {
    let parts: Vec<String> = children.iter().map(|&c| child_phrase(roster, s, c)).collect();
    parts.join(" и ")
}

/// «Детская музыкальная школа № 3»: four years of study, a few students from
/// Школа № 17 (who then hold roles in two organisations, and so do their parents)
/// and children who attend some other school. Returns the org, its director and
/// the class the showcase student attends.
fn build_music_school(
    roster: &mut Roster,
    rng: &mut Rng,
    s17: &School,
    star: Option<usize>,
) -> (usize, usize, Option<usize>) {
    let org = roster.add_org("m3", "Детская музыкальная школа № 3", true, None);
    let piano = roster.add_course(org, "piano", "Фортепиано");
    let solfeggio = roster.add_course(org, "solf", "Сольфеджио");
    let choir = roster.add_course(org, "choir", "Хор");
    let literature = roster.add_course(org, "mlit", "Музыкальная литература");

    let female = rng.chance(80);
    let director = roster.add_staff(rng, org, female);
    roster.grant(director, org, "principal");
    let mut teachers = [0usize; 4];
    for t in &mut teachers {
        let female = rng.chance(80);
        *t = roster.add_staff(rng, org, female);
        roster.grant(*t, org, "teacher");
    }
    let [piano1, piano2, theory, choirmaster] = teachers;

    let mut families = Vec::new();
    let mut star_class = None;
    for grade in 1..=4u8 {
        let class = roster.add_class(org, grade, "А");
        let mut members: Vec<usize> = Vec::new();
        // Music school years run one behind school grades.
        let pool: Vec<usize> = s17
            .classes
            .iter()
            .zip(&s17.students)
            .filter(|&(&c, _)| roster.classes[c].grade == grade + 1)
            .flat_map(|(_, l)| l.iter().map(|&(s, _)| s))
            .collect();
        if let Some(s) = star.filter(|s| pool.contains(s)) {
            members.push(s);
            star_class = Some(class);
        }
        while members.len() < 3 && !pool.is_empty() {
            let s = pool[rng.below(pool.len())];
            if !members.contains(&s) {
                members.push(s);
            }
        }
        for &s in &members {
            roster.grant(s, org, "student");
            for g in roster.people[s].guardians.clone() {
                if !roster.has_role(g, org, "parent") {
                    roster.grant(g, org, "parent");
                }
            }
        }
        for _ in 0..rng.between(3, 5) {
            let both = rng.chance(70);
            let f = new_family(roster, rng, org, grade, both, &mut families);
            let female = rng.chance(60);
            let first = school::child_name(rng, female);
            members.push(add_child(roster, org, &mut families[f], first, female, None));
        }
        for &m in &members {
            roster.enroll(m, Target::Class(class), false, false);
        }

        let mut lessons = vec![(solfeggio, theory), (choir, choirmaster)];
        if grade == 4 {
            lessons.push((literature, theory));
        }
        for (course, teacher) in lessons {
            let section = roster.add_section(course, class, None);
            roster.enroll(teacher, Target::Section(section), true, false);
        }
        // Piano is taught one to one; each piano teacher's pupils form a group.
        let half = members.len().div_ceil(2);
        for (group, teacher, pupils) in [("1", piano1, &members[..half]), ("2", piano2, &members[half..])] {
            let section = roster.add_section(piano, class, Some(group));
            roster.enroll(teacher, Target::Section(section), true, false);
            for &p in pupils {
                roster.enroll(p, Target::Section(section), false, false);
            }
        }
    }
    (org, director, star_class)
}
