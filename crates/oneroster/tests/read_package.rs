#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Reads whole packages written for these tests (tests/fixtures) and variations of them.

use chrono::NaiveDate;
use oneroster::{Package, Problem, ReadError, Version, read_package};
use roster::import::{Batch, EnrollmentRole, Mode, Origin};
use roster::{OrgKind, Role};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// A writable copy of a fixture package, to vary one file at a time.
fn copy(name: &str) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in fs::read_dir(fixture(name)).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    dir
}

fn write(dir: &TempDir, file: &str, content: impl AsRef<[u8]>) {
    fs::write(dir.path().join(file), content).unwrap();
}

fn edit(dir: &TempDir, file: &str, change: impl FnOnce(String) -> String) {
    let path = dir.path().join(file);
    let text = fs::read_to_string(&path).unwrap();
    fs::write(path, change(text)).unwrap();
}

fn read(path: &Path) -> Result<Package, ReadError> {
    read_package(path, &mut |_, _| {})
}

fn ok(path: &Path) -> Package {
    match read(path) {
        Ok(package) => package,
        Err(e) => panic!("expected the package to read: {e}"),
    }
}

fn problems(path: &Path) -> Vec<Problem> {
    match read(path) {
        Err(ReadError::Invalid(problems)) => problems,
        Err(e) => panic!("expected problems, got {e}"),
        Ok(p) => panic!("expected problems, the package read with warnings {:?}", p.warnings),
    }
}

fn problem(file: &str, line: u64, column: &str) -> (String, Option<u64>, Option<String>) {
    (file.to_owned(), Some(line), Some(column.to_owned()))
}

fn places(problems: &[Problem]) -> Vec<(String, Option<u64>, Option<String>)> {
    problems.iter().map(|p| (p.file.clone(), p.line, p.column.clone())).collect()
}

/// Zips the files of `dir` (and `extra` entries) with deflate, as a package export would.
fn zip(dir: &Path, extra: &[(&str, &[u8])]) -> (TempDir, PathBuf) {
    let out = tempfile::tempdir().unwrap();
    let path = out.path().join("package.zip");
    let mut writer = zip::ZipWriter::new(fs::File::create(&path).unwrap());
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let mut entries: Vec<_> = fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for file in entries {
        writer.start_file(file.file_name().unwrap().to_str().unwrap(), options).unwrap();
        writer.write_all(&fs::read(&file).unwrap()).unwrap();
    }
    for (name, content) in extra {
        writer.start_file(*name, options).unwrap();
        writer.write_all(content).unwrap();
    }
    writer.finish().unwrap();
    (out, path)
}

fn person<'a>(batch: &'a Batch, id: &str) -> &'a roster::import::Row<roster::import::Person> {
    batch.people.rows.iter().find(|r| r.source_id == id).unwrap()
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[test]
fn a_valid_1_1_folder_package_maps_every_entity() {
    let package = ok(&fixture("v1_1"));
    let batch = &package.batch;
    assert_eq!(package.version, Version::V1_1);

    let orgs: Vec<_> =
        batch.orgs.rows.iter().map(|r| (r.source_id.as_str(), r.data.kind, r.data.chats_enabled)).collect();
    assert_eq!(
        orgs,
        [
            ("org-district", OrgKind::Other, true),
            ("org-s1", OrgKind::GeneralEducation, true),
            ("org-music", OrgKind::Other, false),
        ]
    );
    assert_eq!(batch.orgs.rows[1].data.name, "Школа № 5");

    assert_eq!(batch.years.rows.len(), 1, "terms are not years");
    assert_eq!(batch.years.rows[0].data.title, "2023/2024 учебный год");
    assert_eq!((batch.years.rows[0].data.start, batch.years.rows[0].data.end), (day(2023, 9, 1), day(2024, 5, 31)));

    let subjects: Vec<_> = batch.subjects.rows.iter().map(|r| (r.data.org.as_str(), r.data.name.as_str())).collect();
    assert_eq!(subjects, [("org-s1", "Математика"), ("org-s1", "Английский язык")]);

    assert_eq!(batch.classes.rows.len(), 1);
    let class = &batch.classes.rows[0];
    assert_eq!(class.data.name.to_string(), "5А");
    assert_eq!(class.data.year.as_deref(), Some("y2023"));
    assert_eq!(class.origin, Origin { file: "classes.csv", line: 2 });
    assert_eq!(batch.sections.rows.len(), 2);

    let teacher = person(batch, "u-teacher");
    assert_eq!(teacher.data.name.to_string(), "Петрова Анна Сергеевна");
    assert_eq!(teacher.data.login.as_ref().map(|l| l.as_str()), Some("petrova.a"));
    assert_eq!(teacher.data.password.as_deref(), Some("Start-123"));
    assert_eq!(teacher.data.roles, [(Role::Teacher, "org-s1".into()), (Role::Teacher, "org-music".into())]);
    let head = person(batch, "u-head");
    assert_eq!(head.data.roles, [(Role::Administrator, "org-s1".into())]);
    assert_eq!(head.data.login.as_ref().map(|l| l.as_str()), Some("smirnova.o"), "logins are lower-cased");
    assert_eq!(person(batch, "u-aide").data.roles, [(Role::OtherStaff, "org-s1".into())]);
    assert_eq!(person(batch, "u-parent").data.roles, [(Role::Guardian, "org-s1".into())]);

    let enrollments: Vec<_> = batch
        .enrollments
        .rows
        .iter()
        .map(|r| (r.source_id.as_str(), r.data.person.as_str(), r.data.target.as_str(), r.data.role, r.data.primary))
        .collect();
    assert_eq!(
        enrollments,
        [
            ("e1", "u-student", "k-5a", EnrollmentRole::Student, false),
            ("e2", "u-teacher", "k-5a", EnrollmentRole::Teacher, true),
            ("e3", "u-teacher", "k-5a-math", EnrollmentRole::Teacher, true),
            ("e4", "u-student", "k-5a-eng1", EnrollmentRole::Student, false),
        ]
    );
    assert_eq!(batch.enrollments.rows[0].data.begin, Some(day(2023, 9, 1)));

    for mode in [
        batch.orgs.mode,
        batch.years.mode,
        batch.people.mode,
        batch.classes.mode,
        batch.subjects.mode,
        batch.sections.mode,
        batch.enrollments.mode,
    ] {
        assert_eq!(mode, Mode::Bulk);
    }
    assert!(batch.people.rows.iter().all(|r| !r.deleted));
}

#[test]
fn the_same_package_as_a_zip_reads_identically() {
    let folder = ok(&fixture("v1_1"));
    let (_dir, path) = zip(&fixture("v1_1"), &[]);
    let zipped = ok(&path);
    assert_eq!(zipped, folder);
}

#[test]
fn a_valid_1_2_package_takes_roles_from_roles_csv() {
    let package = ok(&fixture("v1_2"));
    assert_eq!(package.version, Version::V1_2);
    let batch = &package.batch;
    assert_eq!(
        person(batch, "u-teacher").data.roles,
        [(Role::Teacher, "org-s1".into()), (Role::Guardian, "org-s1".into()), (Role::Teacher, "org-music".into()),],
        "a teacher who is also a parent holds both roles"
    );
    assert_eq!(person(batch, "u-student").data.roles, [(Role::Student, "org-s1".into())]);
    let links: Vec<_> =
        batch.guardianships.iter().map(|(o, g)| (o.line, g.guardian.as_str(), g.student.as_str())).collect();
    assert_eq!(links, [(3, "u-teacher", "u-student")]);
    assert!(package.warnings.is_empty(), "{:?}", package.warnings);
}

#[test]
fn a_1_2_package_with_users_but_no_roles_csv_is_refused() {
    let dir = copy("v1_2");
    fs::remove_file(dir.path().join("roles.csv")).unwrap();
    edit(&dir, "manifest.csv", |m| m.replace("file.roles,bulk", "file.roles,absent"));
    let found = problems(dir.path());
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!((found[0].file.as_str(), found[0].line), ("roles.csv", None));
}

#[test]
fn manifest_modes_bulk_delta_and_absent_are_applied() {
    let dir = copy("v1_1");
    edit(&dir, "manifest.csv", |m| {
        m.replace("file.users,bulk", "file.users,delta").replace("file.courses,bulk", "file.courses,absent")
    });
    edit(&dir, "users.csv", |u| {
        u.replace(",,,true,", ",active,,true,")
            .replace(",,,TRUE,", ",active,,TRUE,")
            .replace(",,,1,", ",active,,1,")
            .replace(",,,yes,", ",active,,yes,")
    });
    let package = ok(dir.path());
    assert_eq!(package.batch.people.mode, Mode::Delta);
    assert_eq!(package.batch.subjects.mode, Mode::Absent);
    assert!(package.batch.subjects.rows.is_empty(), "an absent file is not read");
    assert_eq!(package.batch.orgs.mode, Mode::Bulk);
    let warning = package.warnings.iter().find(|w| w.file == "courses.csv").unwrap();
    assert_eq!(warning.message, "the file is not read: manifest.csv marks it absent");
}

#[test]
fn a_manifest_naming_a_missing_file_is_an_error() {
    let dir = copy("v1_1");
    fs::remove_file(dir.path().join("courses.csv")).unwrap();
    let found = problems(dir.path());
    assert_eq!(places(&found), [problem("manifest.csv", 9, "value")]);
    assert!(found[0].message.contains("courses.csv"), "{}", found[0].message);
}

#[test]
fn without_a_manifest_every_file_is_bulk_and_roles_csv_means_1_2() {
    let dir = copy("v1_1");
    fs::remove_file(dir.path().join("manifest.csv")).unwrap();
    let package = ok(dir.path());
    assert_eq!(package.version, Version::V1_1);
    assert_eq!(package.batch.people.mode, Mode::Bulk);
    assert_eq!(package.batch.enrollments.rows.len(), 4);

    let dir = copy("v1_2");
    fs::remove_file(dir.path().join("manifest.csv")).unwrap();
    let package = ok(dir.path());
    assert_eq!(package.version, Version::V1_2);
    assert_eq!(person(&package.batch, "u-teacher").data.roles.len(), 3);
}

#[test]
fn a_folder_without_any_oneroster_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("notes.txt"), "hello").unwrap();
    let found = problems(dir.path());
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].file, "manifest.csv");
}

#[test]
fn a_utf8_byte_order_mark_is_ignored() {
    let dir = copy("v1_1");
    for file in ["users.csv", "manifest.csv", "orgs.csv"] {
        edit(&dir, file, |t| format!("\u{feff}{t}"));
    }
    assert_eq!(ok(dir.path()).batch, ok(&fixture("v1_1")).batch);
}

#[test]
fn crlf_line_ends_are_accepted() {
    let dir = copy("v1_1");
    for file in ["users.csv", "enrollments.csv", "manifest.csv", "classes.csv"] {
        edit(&dir, file, |t| t.replace('\n', "\r\n"));
    }
    assert_eq!(ok(dir.path()).batch, ok(&fixture("v1_1")).batch);
}

#[test]
fn semicolon_separated_files_are_detected_from_the_header() {
    let dir = copy("v1_1");
    // A spreadsheet with Russian regional settings: `;` between fields, while the
    // multi-valued orgSourcedIds keeps its comma inside quotes.
    edit(&dir, "users.csv", |t| {
        t.replace("\"org-s1,org-music\"", "ORGS").replace(',', ";").replace("ORGS", "\"org-s1,org-music\"")
    });
    edit(&dir, "enrollments.csv", |t| t.replace(',', ";"));
    assert_eq!(ok(dir.path()).batch, ok(&fixture("v1_1")).batch);
}

#[test]
fn booleans_accept_true_in_any_case_and_1() {
    let package = ok(&fixture("v1_1"));
    let primary: Vec<_> = package.batch.enrollments.rows.iter().map(|r| r.data.primary).collect();
    // e2 says TRUE, e3 says 1, e1 false, e4 blank.
    assert_eq!(primary, [false, true, true, false]);

    let dir = copy("v1_1");
    edit(&dir, "enrollments.csv", |t| {
        t.replace("k-5a,org-s1,u-student,student,false", "k-5a,org-s1,u-student,student,maybe")
    });
    let found = problems(dir.path());
    assert_eq!(places(&found), [problem("enrollments.csv", 2, "primary")]);
}

#[test]
fn blank_optional_columns_are_absent_values() {
    let package = ok(&fixture("v1_1"));
    let student = person(&package.batch, "u-student");
    assert_eq!(student.data.name.middle(), None);
    assert_eq!(student.data.password, None);
    let parent = person(&package.batch, "u-parent");
    assert_eq!(parent.data.login, None);
    let e1 = &package.batch.enrollments.rows[0].data;
    assert_eq!(e1.end, None);
    let section = &package.batch.sections.rows[0].data;
    assert_eq!(section.group, None);
}

#[test]
fn metadata_and_ext_columns_are_allowed_without_warning() {
    let dir = copy("v1_1");
    edit(&dir, "users.csv", |t| {
        let mut lines: Vec<String> = t.lines().map(str::to_owned).collect();
        lines[0].push_str(",metadata.district.house,ext_snils");
        for line in &mut lines[1..] {
            line.push_str(",корпус 2,123-456-789 00");
        }
        lines.join("\n") + "\n"
    });
    let package = ok(dir.path());
    assert_eq!(package.warnings.len(), 1, "only the aide enrollment: {:?}", package.warnings);
}

#[test]
fn a_misspelled_parta_metadata_column_is_a_warning() {
    let dir = copy("v1_1");
    edit(&dir, "classes.csv", |t| t.replacen("metadata.parta.group", "metadata.parta.grup", 1));
    let package = ok(dir.path());
    let w = package.warnings.iter().find(|w| w.file == "classes.csv").unwrap();
    assert_eq!((w.line, w.column.as_deref()), (Some(1), Some("metadata.parta.grup")));
}

#[test]
fn a_misspelled_required_header_is_an_error_with_a_suggestion() {
    let dir = copy("v1_1");
    edit(&dir, "users.csv", |t| t.replacen("givenName", "givnName", 1));
    let found = problems(dir.path());
    assert_eq!(places(&found)[0], problem("users.csv", 1, "givenName"));
    assert_eq!(found[0].message, "the required column givenName is missing; did you mean \"givnName\"?");
}

#[test]
fn headers_match_without_regard_to_case() {
    let dir = copy("v1_1");
    edit(&dir, "users.csv", |t| t.replacen("givenName,familyName", "GIVENNAME,familyname", 1));
    assert_eq!(ok(dir.path()).batch, ok(&fixture("v1_1")).batch);
}

#[test]
fn a_misspelled_optional_header_is_a_warning() {
    let dir = copy("v1_1");
    edit(&dir, "users.csv", |t| t.replacen("middleName", "midleName", 1));
    let package = ok(dir.path());
    let w = package.warnings.iter().find(|w| w.file == "users.csv").unwrap();
    assert_eq!((w.line, w.column.as_deref()), (Some(1), Some("midleName")));
    assert_eq!(w.message, "unknown column \"midleName\" is ignored; did you mean middleName?");
    assert_eq!(person(&package.batch, "u-teacher").data.name.middle(), None, "the column is not read");
}

#[test]
fn an_unknown_role_is_an_error() {
    let dir = copy("v1_1");
    edit(&dir, "users.csv", |t| t.replace(",aide,", ",janitor,"));
    let found = problems(dir.path());
    assert_eq!(places(&found), [problem("users.csv", 6, "role")]);
    assert!(found[0].message.starts_with("unknown role \"janitor\""), "{}", found[0].message);
}

#[test]
fn an_unknown_enrollment_role_is_an_error_but_an_aide_is_skipped_with_a_warning() {
    let package = ok(&fixture("v1_1"));
    assert_eq!(places(&package.warnings), [problem("enrollments.csv", 6, "role")]);
    assert!(package.batch.enrollments.rows.iter().all(|r| r.source_id != "e5"));

    let dir = copy("v1_1");
    edit(&dir, "enrollments.csv", |t| t.replace(",aide,", ",janitor,"));
    assert_eq!(places(&problems(dir.path())), [problem("enrollments.csv", 6, "role")]);
}

#[test]
fn an_unknown_class_type_is_an_error() {
    let dir = copy("v1_1");
    edit(&dir, "classes.csv", |t| t.replace(",homeroom,", ",elective,"));
    let found = problems(dir.path());
    // Only the class row: the sections and enrollments naming it are not reported again.
    assert_eq!(places(&found), [problem("classes.csv", 2, "classType")]);
}

#[test]
fn a_class_name_that_is_not_a_grade_and_letter_names_the_title_column() {
    let dir = copy("v1_1");
    edit(&dir, "classes.csv", |t| t.replace(",5а,", ",Пятый А,"));
    let found = problems(dir.path());
    assert_eq!(places(&found), [problem("classes.csv", 2, "title")]);
}

#[test]
fn markup_in_a_name_names_the_column_it_is_in() {
    let dir = copy("v1_1");
    edit(&dir, "users.csv", |t| t.replacen(",Сергеевна,", ",<b>Сергеевна</b>,", 1));
    let found = problems(dir.path());
    assert_eq!(places(&found), [problem("users.csv", 3, "middleName")]);
    assert!(found[0].message.contains("middle name"), "{}", found[0].message);
}

#[test]
fn an_enrollment_to_an_unknown_class_in_a_bulk_package_is_an_error() {
    let dir = copy("v1_1");
    edit(&dir, "enrollments.csv", |t| t.replace("e4,,,k-5a-eng1", "e4,,,k-9z"));
    let found = problems(dir.path());
    assert_eq!(places(&found), [problem("enrollments.csv", 5, "classSourcedId")]);
    assert_eq!(found[0].message, "no row with sourcedId \"k-9z\" in classes.csv");
}

#[test]
fn an_enrollment_to_a_class_outside_a_delta_package_is_passed_to_storage() {
    let dir = copy("v1_1");
    edit(&dir, "manifest.csv", |m| m.replace("file.classes,bulk", "file.classes,delta"));
    edit(&dir, "classes.csv", |t| t.replace(",,,", ",active,,"));
    edit(&dir, "enrollments.csv", |t| t.replace("e4,,,k-5a-eng1", "e4,,,k-9z"));
    let package = ok(dir.path());
    assert_eq!(package.batch.enrollments.rows[3].data.target, "k-9z");
}

#[test]
fn a_duplicate_sourced_id_names_both_lines() {
    let dir = copy("v1_1");
    edit(&dir, "users.csv", |t| t.replace("u-aide,", "u-teacher,"));
    let found = problems(dir.path());
    assert_eq!(places(&found), [problem("users.csv", 6, "sourcedId")]);
    assert_eq!(found[0].message, "duplicate sourcedId \"u-teacher\": line 3 has it too");
}

#[test]
fn a_date_with_slashes_is_refused_and_a_dotted_date_accepted() {
    let dir = copy("v1_1");
    edit(&dir, "enrollments.csv", |t| t.replace("student,false,2023-09-01,", "student,false,01.09.2023,"));
    assert_eq!(ok(dir.path()).batch.enrollments.rows[0].data.begin, Some(day(2023, 9, 1)));

    edit(&dir, "enrollments.csv", |t| t.replace("01.09.2023", "1/05/2023"));
    let found = problems(dir.path());
    assert_eq!(places(&found), [problem("enrollments.csv", 2, "beginDate")]);
    assert!(found[0].message.contains("ambiguous"), "{}", found[0].message);
}

#[test]
fn a_delta_package_marks_tobedeleted_rows_deleted() {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir,
        "manifest.csv",
        "propertyName,value\noneroster.version,1.1\nfile.users,delta\nfile.enrollments,delta\n",
    );
    write(
        &dir,
        "users.csv",
        "sourcedId,status,dateLastModified,orgSourcedIds,role,username,givenName,familyName\n\
         u-new,active,2024-01-10T08:00:00Z,org-s1,student,,Олег,Новиков\n\
         u-left,tobedeleted,2024-01-10T08:00:00Z,org-s1,student,,Ирина,Уехавшая\n",
    );
    write(
        &dir,
        "enrollments.csv",
        "sourcedId,status,classSourcedId,userSourcedId,role\n\
         e9,TOBEDELETED,k-5a,u-left,student\n\
         e10,active,k-5a,u-new,student\n",
    );
    let package = ok(dir.path());
    let people: Vec<_> = package.batch.people.rows.iter().map(|r| (r.source_id.as_str(), r.deleted)).collect();
    assert_eq!(people, [("u-new", false), ("u-left", true)]);
    let enrollments: Vec<_> =
        package.batch.enrollments.rows.iter().map(|r| (r.source_id.as_str(), r.deleted)).collect();
    assert_eq!(enrollments, [("e9", true), ("e10", false)]);
    assert_eq!(package.batch.people.mode, Mode::Delta);
    assert_eq!(package.batch.orgs.mode, Mode::Absent);
    assert_eq!(package.batch.people.rows[0].data.roles, [(Role::Student, "org-s1".into())], "org-s1 is stored already");

    write(&dir, "enrollments.csv", "sourcedId,status,classSourcedId,userSourcedId,role\ne9,,k-5a,u-left,student\n");
    assert_eq!(places(&problems(dir.path())), [problem("enrollments.csv", 2, "status")]);
}

#[test]
fn a_scheduled_class_names_its_homeroom_class_and_group() {
    let package = ok(&fixture("v1_1"));
    let sections: Vec<_> = package
        .batch
        .sections
        .rows
        .iter()
        .map(|r| (r.source_id.as_str(), r.data.subject.as_str(), r.data.class.as_deref(), r.data.group.as_deref()))
        .collect();
    assert_eq!(
        sections,
        [("k-5a-math", "c-math", Some("k-5a"), None), ("k-5a-eng1", "c-eng", Some("k-5a"), Some("1"))]
    );

    let dir = copy("v1_1");
    edit(&dir, "classes.csv", |t| t.replace(",k-5a,1", ",k-5a-math,1"));
    let found = problems(dir.path());
    assert_eq!(places(&found), [problem("classes.csv", 4, "metadata.parta.class")]);
}

#[test]
fn terms_map_to_their_school_year() {
    let package = ok(&fixture("v1_1"));
    // k-5a-math is taught in a semester, k-5a-eng1 in a grading period of that semester.
    let years: Vec<_> = package.batch.sections.rows.iter().map(|r| r.data.year.as_deref()).collect();
    assert_eq!(years, [Some("y2023"), Some("y2023")]);

    let dir = copy("v1_1");
    edit(&dir, "academicSessions.csv", |t| t.replace(",s1,2024", ",y1999,2024"));
    let found = problems(dir.path());
    assert_eq!(places(&found), [problem("academicSessions.csv", 4, "parentSourcedId")]);
}

#[test]
fn demographics_csv_is_never_read() {
    // The fixture's demographics.csv is malformed and not even UTF-8; the manifest
    // lists it as bulk.
    let mut last = (0, 0);
    let package = read_package(&fixture("v1_1"), &mut |done, total| last = (done, total)).unwrap();
    assert!(package.warnings.iter().all(|w| w.file != "demographics.csv"));
    let read: u64 = ["orgs.csv", "academicSessions.csv", "courses.csv", "classes.csv", "users.csv", "enrollments.csv"]
        .iter()
        .map(|f| fs::metadata(fixture("v1_1").join(f)).unwrap().len())
        .sum();
    assert_eq!(last, (read, read), "progress counts exactly the files read");
}

#[test]
fn progress_reports_bytes_read_up_to_the_total() {
    let dir = copy("v1_2");
    let mut rows = String::from(
        "sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,orgSourcedId,userProfileSourcedId\n",
    );
    rows.push_str("r1,,,u-teacher,primary,teacher,2023-09-01,,org-s1,\nr2,,,u-teacher,secondary,parent,,,org-s1,\nr3,,,u-student,primary,student,,,org-s1,\nr5,,,u-student2,primary,student,,,org-s1,\n");
    for i in 0..20_000 {
        rows.push_str(&format!("x{i},,,u-teacher,secondary,teacher,,,org-music,\n"));
    }
    write(&dir, "roles.csv", rows);
    let mut calls = Vec::new();
    read_package(dir.path(), &mut |done, total| calls.push((done, total))).unwrap();
    assert!(calls.len() >= 3, "{calls:?}");
    assert!(calls.windows(2).all(|w| w[0].0 <= w[1].0 && w[0].1 == w[1].1));
    let (done, total) = *calls.last().unwrap();
    assert_eq!(done, total);
}

#[test]
fn guardianships_are_oriented_and_deduplicated() {
    let package = ok(&fixture("v1_1"));
    // The student lists the parent and the parent lists the student: one link,
    // from the first row that gave it.
    let links: Vec<_> =
        package.batch.guardianships.iter().map(|(o, g)| (o.clone(), g.guardian.as_str(), g.student.as_str())).collect();
    assert_eq!(links, [(Origin { file: "users.csv", line: 4 }, "u-parent", "u-student")]);

    let dir = copy("v1_1");
    edit(&dir, "users.csv", |t| t.replace(",u-student,,", ",u-nobody,,"));
    assert_eq!(places(&problems(dir.path())), [problem("users.csv", 5, "agentSourcedIds")]);
}

#[test]
fn a_row_with_a_wrong_number_of_fields_names_its_line() {
    let dir = copy("v1_1");
    edit(&dir, "courses.csv", |t| {
        t.replace("Английский язык,ENG,05,org-s1,,", "Английский язык,ENG,05,org-s1,,,extra")
    });
    let found = problems(dir.path());
    // The course is missing now, so the section teaching it dangles too.
    assert_eq!(found[0].file, "courses.csv");
    assert_eq!((found[0].line, found[0].column.as_deref()), (Some(3), None));
    assert_eq!(found[0].message, "the row has 11 fields but the header has 10");
}

#[test]
fn a_zip_with_an_entry_leaving_the_folder_is_refused() {
    let (_dir, path) = zip(&fixture("v1_1"), &[("../evil.csv", b"sourcedId\nx\n")]);
    let found = problems(&path);
    assert_eq!(found.len(), 1);
    assert_eq!((found[0].file.as_str(), found[0].line, found[0].column.as_deref()), ("../evil.csv", None, None));
}

#[test]
fn a_zip_entry_with_an_absurd_compression_ratio_is_refused() {
    let dir = copy("v1_1");
    let mut bomb = fs::read(dir.path().join("users.csv")).unwrap();
    bomb.resize(bomb.len() + (8 << 20), b'\n');
    write(&dir, "users.csv", bomb);
    let (_zip_dir, path) = zip(dir.path(), &[]);
    let found = problems(&path);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].file, "users.csv");
}

#[test]
fn a_utf16_file_is_refused_with_a_hint() {
    let dir = copy("v1_1");
    let text = fs::read_to_string(dir.path().join("courses.csv")).unwrap();
    let mut utf16 = vec![0xff, 0xfe];
    utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    write(&dir, "courses.csv", utf16);
    let found = problems(dir.path());
    assert_eq!((found[0].file.as_str(), found[0].line, found[0].column.as_deref()), ("courses.csv", Some(1), None));
    assert_eq!(found[0].message, "the file is UTF-16 text; save it as UTF-8");
}
