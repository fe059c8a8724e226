//! The structure of a Russian general-education school: curriculum, teachers and
//! their load, classes, students and their families. Everything is drawn from a
//! seeded generator so a school comes out the same on every run.

use crate::names::{self, ADULT, CHILD, FEMALE, MALE, SURNAMES};
use std::collections::{HashMap, HashSet};
use std::ops::RangeInclusive;

/// The one academic year every package describes: 2026/2027.
pub const YEAR_ID: &str = "y2026";
pub const YEAR_TITLE: &str = "2026/2027";
pub const YEAR_START: &str = "2026-09-01";
pub const YEAR_END: &str = "2027-08-31";
/// OneRoster names a school year by the calendar year it ends in.
pub const YEAR_ONEROSTER: &str = "2027";

/// SplitMix64. Kept in the crate rather than taken from `rand`, whose streams may
/// change between versions: the demo must be byte-identical forever.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`; the multiply-shift avoids the modulo bias and a division.
    pub fn below(&mut self, n: usize) -> usize {
        (((self.next_u64() >> 32) * n as u64) >> 32) as usize
    }

    pub fn chance(&mut self, percent: u32) -> bool {
        self.below(100) < percent as usize
    }

    pub fn between(&mut self, lo: u32, hi: u32) -> u32 {
        lo + self.below((hi - lo + 1) as usize) as u32
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

// ---------------------------------------------------------------------------
// The roster being built: what a package will say, before it is written.

pub struct Org {
    pub id: String,
    pub name: String,
    /// `metadata.parta.kind = other`: a music school, not general education.
    pub other: bool,
    pub chats: Option<bool>,
    next_person: u32,
}

pub struct Person {
    pub id: String,
    pub last: String,
    pub first: &'static str,
    pub middle: String,
    pub female: bool,
    /// The family's surname in its masculine form, so a teacher's child can carry it.
    pub surname: &'static str,
    pub login: String,
    pub password: Option<&'static str>,
    pub guardians: Vec<usize>,
    pub org: usize,
    pub grade: Option<u8>,
    roles: u8,
}

pub struct RoleGrant {
    pub person: usize,
    pub org: usize,
    /// The OneRoster role (`principal`, `teacher`, `aide`, `parent`, …).
    pub role: &'static str,
    pub primary: bool,
}

pub struct Course {
    pub id: String,
    pub org: usize,
    pub title: &'static str,
    pub code: &'static str,
}

/// A homeroom class: "5А".
pub struct Class {
    pub id: String,
    pub org: usize,
    pub grade: u8,
    pub title: String,
}

/// A scheduled class: a subject taught to a class, or to a group of it.
pub struct Section {
    pub id: String,
    pub org: usize,
    pub course: usize,
    pub class: usize,
    pub group: Option<&'static str>,
    pub title: String,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Target {
    Class(usize),
    Section(usize),
}

pub struct Enrollment {
    pub person: usize,
    pub target: Target,
    pub teacher: bool,
    pub primary: bool,
}

/// Logins are unique within a roster; a region gives each school its own prefix,
/// which keeps them unique across the region without a region-wide table.
struct Logins {
    prefix: String,
    taken: HashMap<String, u32>,
}

impl Logins {
    /// `ivanova.mp`, then `ivanova.mp2`, `ivanova.mp3`: the base never contains a
    /// digit after the prefix, so a numbered login cannot collide with another base.
    fn make(&mut self, last: &str, first: &str, middle: &str) -> String {
        let mut base = String::with_capacity(self.prefix.len() + 16);
        base.push_str(&self.prefix);
        names::transliterate_into(last, &mut base);
        base.push('.');
        names::initial_into(first, &mut base);
        names::initial_into(middle, &mut base);
        let count = self.taken.entry(base.clone()).or_insert(0);
        *count += 1;
        if *count > 1 {
            base.push_str(&count.to_string());
        }
        base
    }
}

pub struct Roster {
    pub orgs: Vec<Org>,
    pub courses: Vec<Course>,
    pub classes: Vec<Class>,
    pub sections: Vec<Section>,
    pub people: Vec<Person>,
    pub roles: Vec<RoleGrant>,
    pub enrollments: Vec<Enrollment>,
    logins: Logins,
    /// Two teachers called Мельник Яна in one staff room would confuse a visitor.
    staff_names: HashSet<String>,
}

impl Roster {
    pub fn new(login_prefix: &str) -> Self {
        Roster {
            orgs: Vec::new(),
            courses: Vec::new(),
            classes: Vec::new(),
            sections: Vec::new(),
            people: Vec::new(),
            roles: Vec::new(),
            enrollments: Vec::new(),
            logins: Logins { prefix: login_prefix.to_string(), taken: HashMap::new() },
            staff_names: HashSet::new(),
        }
    }

    pub fn add_org(&mut self, id: &str, name: &str, other: bool, chats: Option<bool>) -> usize {
        self.orgs.push(Org { id: id.to_string(), name: name.to_string(), other, chats, next_person: 0 });
        self.orgs.len() - 1
    }

    pub fn add_course(&mut self, org: usize, code: &'static str, title: &'static str) -> usize {
        let id = format!("{}-{code}", self.orgs[org].id);
        self.courses.push(Course { id, org, title, code });
        self.courses.len() - 1
    }

    pub fn add_class(&mut self, org: usize, grade: u8, letter: &str) -> usize {
        let mut id = format!("{}-c{grade}", self.orgs[org].id);
        names::transliterate_into(letter, &mut id);
        self.classes.push(Class { id, org, grade, title: format!("{grade}{letter}") });
        self.classes.len() - 1
    }

    pub fn add_section(&mut self, course: usize, class: usize, group: Option<&'static str>) -> usize {
        let (org, code, subject) = (self.courses[course].org, self.courses[course].code, self.courses[course].title);
        let class_id = &self.classes[class].id;
        let class_title = &self.classes[class].title;
        let (id, title) = match group {
            Some(g) => (format!("{class_id}-{code}{g}"), format!("{subject} {class_title}, группа {g}")),
            None => (format!("{class_id}-{code}"), format!("{subject} {class_title}")),
        };
        self.sections.push(Section { id, org, course, class, group, title });
        self.sections.len() - 1
    }

    pub fn add_person(
        &mut self,
        org: usize,
        surname: &'static str,
        first: &'static str,
        middle: String,
        female: bool,
        grade: Option<u8>,
    ) -> usize {
        let last = names::surname_form(surname, female);
        self.add_person_named(org, surname, last, first, middle, female, grade)
    }

    /// A person whose surname is not their family's: a mother who kept her own.
    #[allow(clippy::too_many_arguments)]
    pub fn add_person_named(
        &mut self,
        org: usize,
        surname: &'static str,
        last: String,
        first: &'static str,
        middle: String,
        female: bool,
        grade: Option<u8>,
    ) -> usize {
        let o = &mut self.orgs[org];
        o.next_person += 1;
        let id = format!("{}-u{}", o.id, o.next_person);
        let login = self.logins.make(&last, first, &middle);
        self.people.push(Person {
            id,
            last,
            first,
            middle,
            female,
            surname,
            login,
            password: None,
            guardians: Vec::new(),
            org,
            grade,
            roles: 0,
        });
        self.people.len() - 1
    }

    /// OneRoster marks one role per person `primary`; the first one granted is it.
    pub fn grant(&mut self, person: usize, org: usize, role: &'static str) {
        let p = &mut self.people[person];
        p.roles += 1;
        self.roles.push(RoleGrant { person, org, role, primary: p.roles == 1 });
    }

    pub fn has_role(&self, person: usize, org: usize, role: &str) -> bool {
        self.roles.iter().any(|r| r.person == person && r.org == org && r.role == role)
    }

    pub fn enroll(&mut self, person: usize, target: Target, teacher: bool, primary: bool) {
        self.enrollments.push(Enrollment { person, target, teacher, primary });
    }

    pub fn full_name(&self, person: usize) -> String {
        let p = &self.people[person];
        format!("{} {} {}", p.last, p.first, p.middle)
    }

    /// An employee: an adult whose surname and first name no colleague shares.
    pub fn add_staff(&mut self, rng: &mut Rng, org: usize, female: bool) -> usize {
        let mut attempt = 0;
        let (surname, first) = loop {
            let surname = rng.pick(SURNAMES);
            let first = if female { adult_female(rng) } else { adult_male(rng) };
            attempt += 1;
            let key = format!("{} {first}", names::surname_form(surname, female));
            if self.staff_names.insert(key) || attempt > 20 {
                break (surname, first);
            }
        };
        let middle = names::patronymic(adult_male(rng), female);
        self.add_person(org, surname, first, middle, female, None)
    }
}

fn adult_male(rng: &mut Rng) -> &'static str {
    MALE[rng.between(ADULT.start as u32, ADULT.end as u32 - 1) as usize]
}

fn adult_female(rng: &mut Rng) -> &'static str {
    FEMALE[rng.between(ADULT.start as u32, ADULT.end as u32 - 1) as usize]
}

pub fn child_name(rng: &mut Rng, female: bool) -> &'static str {
    let list = if female { FEMALE } else { MALE };
    list[rng.between(CHILD.start as u32, CHILD.end as u32 - 1) as usize]
}

// ---------------------------------------------------------------------------
// Curriculum.

/// What a teacher is trained to teach. Primary-school teachers teach most subjects
/// of their own class in grades 1–4, as in every Russian school.
#[derive(Clone, Copy, PartialEq, Eq, Debug, PartialOrd, Ord)]
pub enum Dept {
    Primary,
    RusLit,
    Math,
    English,
    HistSoc,
    Geo,
    Bio,
    Chem,
    Phys,
    Inf,
    Obzr,
    Pe,
    Music,
    Art,
    Tech,
}

impl Dept {
    const COUNT: usize = 15;

    /// "учитель …".
    pub fn genitive(self) -> &'static str {
        match self {
            Dept::Primary => "начальных классов",
            Dept::RusLit => "русского языка и литературы",
            Dept::Math => "математики",
            Dept::English => "английского языка",
            Dept::HistSoc => "истории и обществознания",
            Dept::Geo => "географии",
            Dept::Bio => "биологии",
            Dept::Chem => "химии",
            Dept::Phys => "физики",
            Dept::Inf => "информатики",
            Dept::Obzr => "ОБЗР",
            Dept::Pe => "физической культуры",
            Dept::Music => "музыки",
            Dept::Art => "изобразительного искусства",
            Dept::Tech => "труда (технологии)",
        }
    }

    /// Russian schools' staff rooms are mostly women, less so in PE, ОБЗР, physics.
    fn female_percent(self) -> u32 {
        match self {
            Dept::Primary => 97,
            Dept::RusLit | Dept::English => 94,
            Dept::Bio | Dept::Art => 85,
            Dept::Math | Dept::Chem | Dept::Music => 80,
            Dept::Geo => 75,
            Dept::HistSoc => 70,
            Dept::Phys | Dept::Inf | Dept::Tech => 50,
            Dept::Pe => 35,
            Dept::Obzr => 15,
        }
    }
}

pub struct Subject {
    pub code: &'static str,
    pub title: &'static str,
    pub dept: Dept,
    /// Taught by the class's own primary-school teacher in grades 1–4.
    pub elementary_by_class_teacher: bool,
}

impl Subject {
    pub fn dept_in(&self, grade: u8) -> Dept {
        if grade <= 4 && self.elementary_by_class_teacher { Dept::Primary } else { self.dept }
    }
}

const fn subject(code: &'static str, title: &'static str, dept: Dept, elementary: bool) -> Subject {
    Subject { code, title, dept, elementary_by_class_teacher: elementary }
}

pub static RUS: Subject = subject("rus", "Русский язык", Dept::RusLit, true);
pub static READING: Subject = subject("read", "Литературное чтение", Dept::RusLit, true);
pub static LIT: Subject = subject("lit", "Литература", Dept::RusLit, false);
pub static MATH: Subject = subject("math", "Математика", Dept::Math, true);
pub static ALG: Subject = subject("alg", "Алгебра", Dept::Math, false);
pub static GEOM: Subject = subject("geom", "Геометрия", Dept::Math, false);
pub static WORLD: Subject = subject("world", "Окружающий мир", Dept::Primary, true);
pub static ENG: Subject = subject("eng", "Английский язык", Dept::English, false);
pub static MUS: Subject = subject("mus", "Музыка", Dept::Music, false);
pub static ART: Subject = subject("art", "Изобразительное искусство", Dept::Art, true);
pub static TECH: Subject = subject("tech", "Труд (технология)", Dept::Tech, true);
pub static PE: Subject = subject("pe", "Физическая культура", Dept::Pe, false);
pub static HIST: Subject = subject("hist", "История", Dept::HistSoc, false);
pub static SOC: Subject = subject("soc", "Обществознание", Dept::HistSoc, false);
pub static GEO: Subject = subject("geo", "География", Dept::Geo, false);
pub static BIO: Subject = subject("bio", "Биология", Dept::Bio, false);
pub static PHYS: Subject = subject("phys", "Физика", Dept::Phys, false);
pub static CHEM: Subject = subject("chem", "Химия", Dept::Chem, false);
pub static INF: Subject = subject("inf", "Информатика", Dept::Inf, false);
pub static OBZR: Subject = subject("obzr", "ОБЗР", Dept::Obzr, false);

/// English is taught in two groups per class, every other subject to the whole class.
pub fn groups_of(subject: &Subject) -> &'static [Option<&'static str>] {
    if subject.code == ENG.code { &[Some("1"), Some("2")] } else { &[None] }
}

type Plan = &'static [(&'static Subject, u32)];

/// Subjects and weekly hours per grade, after the federal basic curriculum (ФОП).
pub fn curriculum(grade: u8) -> Plan {
    const G1: Plan = &[(&RUS, 5), (&READING, 4), (&MATH, 4), (&WORLD, 2), (&MUS, 1), (&ART, 1), (&TECH, 1), (&PE, 2)];
    const G2: Plan =
        &[(&RUS, 5), (&READING, 4), (&ENG, 2), (&MATH, 4), (&WORLD, 2), (&MUS, 1), (&ART, 1), (&TECH, 1), (&PE, 2)];
    const G4: Plan =
        &[(&RUS, 5), (&READING, 3), (&ENG, 2), (&MATH, 4), (&WORLD, 2), (&MUS, 1), (&ART, 1), (&TECH, 1), (&PE, 2)];
    const G5: Plan = &[
        (&RUS, 5),
        (&LIT, 3),
        (&ENG, 3),
        (&MATH, 5),
        (&HIST, 2),
        (&GEO, 1),
        (&BIO, 1),
        (&MUS, 1),
        (&ART, 1),
        (&TECH, 2),
        (&PE, 2),
    ];
    const G6: Plan = &[
        (&RUS, 6),
        (&LIT, 3),
        (&ENG, 3),
        (&MATH, 5),
        (&HIST, 2),
        (&SOC, 1),
        (&GEO, 1),
        (&BIO, 1),
        (&MUS, 1),
        (&ART, 1),
        (&TECH, 2),
        (&PE, 2),
    ];
    const G7: Plan = &[
        (&RUS, 4),
        (&LIT, 2),
        (&ENG, 3),
        (&ALG, 3),
        (&GEOM, 2),
        (&INF, 1),
        (&HIST, 2),
        (&SOC, 1),
        (&GEO, 2),
        (&BIO, 1),
        (&PHYS, 2),
        (&MUS, 1),
        (&ART, 1),
        (&TECH, 2),
        (&PE, 2),
    ];
    const G8: Plan = &[
        (&RUS, 3),
        (&LIT, 2),
        (&ENG, 3),
        (&ALG, 3),
        (&GEOM, 2),
        (&INF, 1),
        (&HIST, 2),
        (&SOC, 1),
        (&GEO, 2),
        (&BIO, 2),
        (&PHYS, 2),
        (&CHEM, 2),
        (&MUS, 1),
        (&TECH, 1),
        (&OBZR, 1),
        (&PE, 2),
    ];
    const G9: Plan = &[
        (&RUS, 3),
        (&LIT, 3),
        (&ENG, 3),
        (&ALG, 3),
        (&GEOM, 2),
        (&INF, 1),
        (&HIST, 2),
        (&SOC, 1),
        (&GEO, 2),
        (&BIO, 2),
        (&PHYS, 3),
        (&CHEM, 2),
        (&TECH, 1),
        (&OBZR, 1),
        (&PE, 2),
    ];
    const G10: Plan = &[
        (&RUS, 2),
        (&LIT, 3),
        (&ENG, 3),
        (&ALG, 4),
        (&GEOM, 3),
        (&INF, 1),
        (&HIST, 2),
        (&SOC, 2),
        (&BIO, 1),
        (&CHEM, 1),
        (&PHYS, 2),
        (&OBZR, 1),
        (&PE, 2),
    ];
    match grade {
        1 => G1,
        2 | 3 => G2,
        4 => G4,
        5 => G5,
        6 => G6,
        7 => G7,
        8 => G8,
        9 => G9,
        _ => G10,
    }
}

/// Departments too small to fill a teacher's week are taught by one person: a
/// geography teacher who also teaches biology, as in a small school.
const MERGES: [(Dept, Dept); 4] =
    [(Dept::Geo, Dept::Bio), (Dept::Music, Dept::Art), (Dept::Chem, Dept::Bio), (Dept::Inf, Dept::Phys)];

/// Whom a class teacher (классный руководитель) is usually chosen from, in order.
const CLASS_TEACHER_PREFERENCE: [Dept; 14] = [
    Dept::RusLit,
    Dept::Math,
    Dept::English,
    Dept::HistSoc,
    Dept::Bio,
    Dept::Geo,
    Dept::Phys,
    Dept::Chem,
    Dept::Inf,
    Dept::Pe,
    Dept::Art,
    Dept::Music,
    Dept::Tech,
    Dept::Obzr,
];

// ---------------------------------------------------------------------------
// Building a school.

/// A position in a school: the `index`-th student generated for class `grade` +
/// `letters[letter]`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Slot {
    pub grade: u8,
    pub letter: usize,
    pub index: usize,
}

#[derive(Clone, Copy)]
pub struct Post {
    pub title: &'static str,
    pub role: &'static str,
    pub female_percent: u32,
}

pub struct SchoolSpec {
    pub id: String,
    pub name: String,
    pub chats: Option<bool>,
    pub grades: RangeInclusive<u8>,
    pub letters: &'static [&'static str],
    pub class_size: (u32, u32),
    /// Weekly hours a subject teacher is given; sets how many teachers a school has.
    pub load: u32,
    pub admins: &'static [Post],
    pub other_staff: &'static [Post],
    pub two_guardians_percent: u32,
    pub sibling_percent: u32,
    /// The second student joins the family of the first, created earlier.
    pub forced_siblings: Vec<(Slot, Slot)>,
    /// The first teacher of this department is the parent of the student at the slot.
    pub teacher_parent: Option<(Dept, Slot)>,
}

pub struct Family {
    pub surname: &'static str,
    pub father_first: &'static str,
    pub mother: Option<usize>,
    pub father: Option<usize>,
    pub children: Vec<usize>,
    grade: u8,
    /// A family the spec gives a particular story; random siblings stay out of it.
    reserved: bool,
}

impl Family {
    pub fn guardians(&self) -> impl Iterator<Item = usize> + '_ {
        self.mother.into_iter().chain(self.father)
    }
}

pub struct Teacher {
    pub person: usize,
    pub depts: Vec<Dept>,
    /// Local class indices this teacher teaches, in order, without repeats.
    pub classes: Vec<usize>,
}

pub struct School {
    pub org: usize,
    /// Roster class indices in grade-then-letter order.
    pub classes: Vec<usize>,
    /// Per class: (student person, family index).
    pub students: Vec<Vec<(usize, usize)>>,
    pub families: Vec<Family>,
    pub teachers: Vec<Teacher>,
    /// Per class: the teacher index of its class teacher.
    pub class_teachers: Vec<usize>,
    pub admins: Vec<usize>,
    pub other_staff: Vec<usize>,
    pub teacher_parent: Option<usize>,
    letters: usize,
}

impl School {
    pub fn student_at(&self, roster: &Roster, slot: Slot) -> Option<(usize, usize)> {
        let first_grade = self.classes.first().map(|&c| roster.classes[c].grade)?;
        slot_in(&self.students, &first_grade, self.letters, slot)
    }

    pub fn class_at(&self, roster: &Roster, title: &str) -> Option<usize> {
        self.classes.iter().position(|&c| roster.classes[c].title == title)
    }
}

/// A teacher's share of one class: every subject of one department in it, or one
/// English group. All of it goes to the same teacher.
struct Unit {
    class: usize,
    dept: Dept,
    group: Option<&'static str>,
    hours: u32,
    sections: Vec<usize>,
}

pub fn build_school(roster: &mut Roster, spec: &SchoolSpec, rng: &mut Rng) -> School {
    let org = roster.add_org(&spec.id, &spec.name, false, spec.chats);

    let mut courses: Vec<(&'static str, usize)> = Vec::new();
    for grade in spec.grades.clone() {
        for (s, _) in curriculum(grade) {
            if !courses.iter().any(|(code, _)| *code == s.code) {
                courses.push((s.code, roster.add_course(org, s.code, s.title)));
            }
        }
    }
    let course_of = |code: &str| courses.iter().find(|(c, _)| *c == code).map_or(0, |&(_, i)| i);

    let mut classes = Vec::new();
    for grade in spec.grades.clone() {
        for letter in spec.letters {
            classes.push(roster.add_class(org, grade, letter));
        }
    }

    let mut admins = Vec::new();
    for post in spec.admins {
        let female = rng.chance(post.female_percent);
        let p = roster.add_staff(rng, org, female);
        roster.grant(p, org, post.role);
        admins.push(p);
    }

    let mut units: Vec<Unit> = Vec::new();
    for (ci, &class) in classes.iter().enumerate() {
        let grade = roster.classes[class].grade;
        for (s, hours) in curriculum(grade) {
            let dept = s.dept_in(grade);
            for &group in groups_of(s) {
                let section = roster.add_section(course_of(s.code), class, group);
                // Units are pushed class by class: only this class's tail can match.
                match units.iter_mut().rev().take_while(|u| u.class == ci).find(|u| u.dept == dept && u.group == group)
                {
                    Some(u) => {
                        u.hours += hours;
                        u.sections.push(section);
                    }
                    None => units.push(Unit { class: ci, dept, group, hours: *hours, sections: vec![section] }),
                }
            }
        }
    }

    let teachers = assign_teachers(roster, spec, rng, org, &units);

    // Per class, who teaches it in which department, for choosing class teachers.
    let mut teaching: Vec<Vec<(Dept, usize)>> = vec![Vec::new(); classes.len()];
    for (ti, t) in teachers.iter().enumerate() {
        for &i in &t.units {
            teaching[units[i].class].push((units[i].dept, ti));
        }
    }
    let class_teachers = choose_class_teachers(roster, &classes, &teaching, teachers.len());
    for (ci, &ti) in class_teachers.iter().enumerate() {
        roster.enroll(teachers[ti].teacher.person, Target::Class(classes[ci]), true, true);
    }

    let mut other_staff = Vec::new();
    for post in spec.other_staff {
        let female = rng.chance(post.female_percent);
        let p = roster.add_staff(rng, org, female);
        roster.grant(p, org, post.role);
        other_staff.push(p);
    }

    let teacher_parent = spec
        .teacher_parent
        .and_then(|(dept, _)| teachers.iter().find(|t| t.teacher.depts.contains(&dept)).map(|t| t.teacher.person));

    let mut families: Vec<Family> = Vec::new();
    let mut students: Vec<Vec<(usize, usize)>> = Vec::with_capacity(classes.len());
    for (ci, &class) in classes.iter().enumerate() {
        let grade = roster.classes[class].grade;
        let letter = ci % spec.letters.len();
        let size = rng.between(spec.class_size.0, spec.class_size.1) as usize;
        let mut list = Vec::with_capacity(size);
        for index in 0..size {
            let slot = Slot { grade, letter, index };
            let forced = spec.forced_siblings.iter().find(|(_, later)| *later == slot).map(|(first, _)| *first);
            let family = if let Some(first) = forced {
                slot_in(&students, spec.grades.start(), spec.letters.len(), first).map(|(_, f)| f)
            } else if let Some(parent) = teacher_parent.filter(|_| spec.teacher_parent.is_some_and(|(_, s)| s == slot))
            {
                let f = family_of_teacher(roster, rng, org, parent, grade, &mut families);
                families[f].reserved = true;
                Some(f)
            } else if rng.chance(spec.sibling_percent) {
                earlier_single_child_family(rng, &families, grade)
            } else {
                None
            };
            let family = match family {
                Some(f) => f,
                None => {
                    let forced = spec.forced_siblings.iter().any(|(first, _)| *first == slot);
                    let both = forced || rng.chance(spec.two_guardians_percent);
                    let f = new_family(roster, rng, org, grade, both, &mut families);
                    families[f].reserved = forced;
                    f
                }
            };
            let female = rng.chance(50);
            let first = child_name(rng, female);
            let student = add_child(roster, org, &mut families[family], first, female, Some(grade));
            roster.enroll(student, Target::Class(class), false, false);
            list.push((student, family));
        }
        students.push(list);
    }

    // English groups split each class alphabetically, the way class registers do.
    for (ci, list) in students.iter().enumerate() {
        let mut sorted: Vec<usize> = list.iter().map(|&(s, _)| s).collect();
        sorted.sort_by(|&a, &b| {
            let (pa, pb) = (&roster.people[a], &roster.people[b]);
            (&pa.last, pa.first, &pa.middle).cmp(&(&pb.last, pb.first, &pb.middle))
        });
        let half = sorted.len().div_ceil(2);
        for group_sections in units.iter().filter(|u| u.class == ci && u.group.is_some()) {
            let members = if group_sections.group == Some("1") { &sorted[..half] } else { &sorted[half..] };
            for &section in &group_sections.sections {
                for &s in members {
                    roster.enroll(s, Target::Section(section), false, false);
                }
            }
        }
    }

    School {
        org,
        classes,
        students,
        families,
        teachers: teachers.into_iter().map(|t| t.teacher).collect(),
        class_teachers,
        admins,
        other_staff,
        teacher_parent,
        letters: spec.letters.len(),
    }
}

/// The (student, family) generated at `slot`, classes being in grade-then-letter order.
fn slot_in(students: &[Vec<(usize, usize)>], first_grade: &u8, letters: usize, slot: Slot) -> Option<(usize, usize)> {
    let class = usize::from(slot.grade.checked_sub(*first_grade)?) * letters + slot.letter;
    students.get(class)?.get(slot.index).copied()
}

struct Assigned {
    teacher: Teacher,
    units: Vec<usize>,
}

/// Splits each department's units among its teachers in contiguous runs of
/// classes, so a mathematics teacher gets 5А, 5Б, 5В and 6А rather than a scatter.
fn assign_teachers(roster: &mut Roster, spec: &SchoolSpec, rng: &mut Rng, org: usize, units: &[Unit]) -> Vec<Assigned> {
    let mut hours = [0u32; Dept::COUNT];
    for u in units {
        hours[u.dept as usize] += u.hours;
    }
    let mut group_of: [usize; Dept::COUNT] = std::array::from_fn(|i| i);
    for (a, b) in MERGES {
        let (a, b) = (a as usize, b as usize);
        if group_of[a] == a && group_of[b] == b && hours[a] > 0 && hours[b] > 0 && hours[a] + hours[b] <= spec.load {
            group_of[a] = b;
            hours[b] += hours[a];
            hours[a] = 0;
        }
    }

    let mut assigned: Vec<Assigned> = Vec::new();
    for lead in ALL_DEPTS {
        let g = lead as usize;
        if group_of[g] != g || hours[g] == 0 {
            continue;
        }
        let mut members: Vec<usize> = (0..units.len()).filter(|&i| group_of[units[i].dept as usize] == g).collect();
        // Two different teachers per class for English: all first groups, then all second.
        members.sort_by_key(|&i| units[i].group);
        let n = if lead == Dept::Primary {
            members.len()
        } else {
            ((hours[g] + spec.load / 2) / spec.load).max(1) as usize
        };
        let total: u32 = members.iter().map(|&i| units[i].hours).sum();
        let first = assigned.len();
        for _ in 0..n {
            let female = rng.chance(lead.female_percent());
            let person = roster.add_staff(rng, org, female);
            roster.grant(person, org, "teacher");
            assigned.push(Assigned {
                teacher: Teacher { person, depts: Vec::new(), classes: Vec::new() },
                units: Vec::new(),
            });
        }
        let mut cumulative = 0u32;
        for (k, &i) in members.iter().enumerate() {
            let u = &units[i];
            let t = if lead == Dept::Primary {
                k
            } else {
                (((2 * cumulative + u.hours) as usize * n) / (2 * total as usize)).min(n - 1)
            };
            cumulative += u.hours;
            let a = &mut assigned[first + t];
            a.units.push(i);
            if !a.teacher.depts.contains(&u.dept) {
                a.teacher.depts.push(u.dept);
            }
            if !a.teacher.classes.contains(&u.class) {
                a.teacher.classes.push(u.class);
            }
            for &section in &u.sections {
                roster.enroll(a.teacher.person, Target::Section(section), true, false);
            }
        }
    }
    for a in &mut assigned {
        a.teacher.depts.sort();
        a.teacher.classes.sort();
    }
    assigned
}

const ALL_DEPTS: [Dept; Dept::COUNT] = [
    Dept::Primary,
    Dept::RusLit,
    Dept::Math,
    Dept::English,
    Dept::HistSoc,
    Dept::Geo,
    Dept::Bio,
    Dept::Chem,
    Dept::Phys,
    Dept::Inf,
    Dept::Obzr,
    Dept::Pe,
    Dept::Music,
    Dept::Art,
    Dept::Tech,
];

/// Grades 1–4 get their primary-school teacher; older classes a subject teacher who
/// teaches them, preferring the main subjects and rotating so the mathematics
/// teachers do not take every class. Nobody leads two classes.
fn choose_class_teachers(roster: &Roster, classes: &[usize], teaching: &[Vec<(Dept, usize)>], n: usize) -> Vec<usize> {
    let mut taken = vec![false; n];
    let mut chosen = Vec::with_capacity(classes.len());
    let mut older = 0usize;
    for (ci, &class) in classes.iter().enumerate() {
        let grade = roster.classes[class].grade;
        let mut order: Vec<Dept> = Vec::with_capacity(CLASS_TEACHER_PREFERENCE.len() + 1);
        if grade <= 4 {
            order.push(Dept::Primary);
        } else {
            let main = 7;
            order.extend((0..main).map(|j| CLASS_TEACHER_PREFERENCE[(older + j) % main]));
            order.extend_from_slice(&CLASS_TEACHER_PREFERENCE[main..]);
            older += 1;
        }
        let pick = order
            .iter()
            .find_map(|&d| teaching[ci].iter().find(|&&(td, t)| td == d && !taken[t]).map(|&(_, t)| t))
            .or_else(|| teaching[ci].iter().find(|&&(_, t)| !taken[t]).map(|&(_, t)| t))
            .or_else(|| (0..n).find(|&t| !taken[t]))
            .unwrap_or(0);
        if let Some(t) = taken.get_mut(pick) {
            *t = true;
        }
        chosen.push(pick);
    }
    chosen
}

/// A family that already has one child in another grade, so the new student is a
/// younger or older sibling rather than a twin.
fn earlier_single_child_family(rng: &mut Rng, families: &[Family], grade: u8) -> Option<usize> {
    if families.is_empty() {
        return None;
    }
    (0..4)
        .map(|_| rng.below(families.len()))
        .find(|&f| !families[f].reserved && families[f].children.len() == 1 && families[f].grade != grade)
}

/// A new family with one or two guardians, both granted the parent role in `org`.
/// One mother in ten kept her own surname; the children carry the father's.
pub fn new_family(
    roster: &mut Roster,
    rng: &mut Rng,
    org: usize,
    grade: u8,
    both: bool,
    families: &mut Vec<Family>,
) -> usize {
    let surname = rng.pick(SURNAMES);
    let father_first = adult_male(rng);
    let (has_mother, has_father) = if both {
        (true, true)
    } else if rng.chance(75) {
        (true, false)
    } else {
        (false, true)
    };
    let mother = has_mother.then(|| {
        let own = if rng.chance(10) { rng.pick(SURNAMES) } else { surname };
        let first = adult_female(rng);
        let middle = names::patronymic(adult_male(rng), true);
        let m = roster.add_person_named(org, surname, names::surname_form(own, true), first, middle, true, None);
        roster.grant(m, org, "parent");
        m
    });
    let father = has_father.then(|| {
        let middle = names::patronymic(adult_male(rng), false);
        let f = roster.add_person(org, surname, father_first, middle, false, None);
        roster.grant(f, org, "parent");
        f
    });
    families.push(Family { surname, father_first, mother, father, children: Vec::new(), grade, reserved: false });
    families.len() - 1
}

/// The family of a teacher who is also a parent at the school: the teacher takes
/// the parent role beside the teaching one, and the spouse is generated.
fn family_of_teacher(
    roster: &mut Roster,
    rng: &mut Rng,
    org: usize,
    teacher: usize,
    grade: u8,
    families: &mut Vec<Family>,
) -> usize {
    let (surname, female, first) = {
        let t = &roster.people[teacher];
        (t.surname, t.female, t.first)
    };
    roster.grant(teacher, org, "parent");
    let spouse_first = if female { adult_male(rng) } else { adult_female(rng) };
    let middle = names::patronymic(adult_male(rng), !female);
    let spouse = roster.add_person(org, surname, spouse_first, middle, !female, None);
    roster.grant(spouse, org, "parent");
    let (mother, father, father_first) =
        if female { (teacher, spouse, spouse_first) } else { (spouse, teacher, first) };
    families.push(Family {
        surname,
        father_first,
        mother: Some(mother),
        father: Some(father),
        children: Vec::new(),
        grade,
        reserved: false,
    });
    families.len() - 1
}

/// A child of `family`: the family's surname in the child's gender, the patronymic
/// from the father's first name, and the family's guardians as agents.
pub fn add_child(
    roster: &mut Roster,
    org: usize,
    family: &mut Family,
    first: &'static str,
    female: bool,
    grade: Option<u8>,
) -> usize {
    let middle = names::patronymic(family.father_first, female);
    let child = roster.add_person(org, family.surname, first, middle, female, grade);
    roster.people[child].guardians = family.guardians().collect();
    roster.grant(child, org, "student");
    family.children.push(child);
    child
}
