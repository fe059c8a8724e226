//! Russian names: first names, surnames with their feminine forms, patronymics,
//! and the Latin transliteration used for logins.
//!
//! The first-name lists are ordered by generation: names popular for children born
//! around 2010–2020 come first, names of their parents' generation last, with names
//! common to both in the middle. Children draw from the front, adults from the back,
//! so a fifth-grader is an Алиса or an Артём and her mother an Елена.

use std::ops::Range;

/// Male first names. Every one has a patronymic that `patronymic` forms correctly.
pub const MALE: &[&str] = &[
    // Mostly children.
    "Артём",
    "Марк",
    "Лев",
    "Матвей",
    "Тимофей",
    "Мирон",
    "Платон",
    "Савелий",
    "Елисей",
    "Всеволод",
    "Ярослав",
    "Макар",
    "Захар",
    "Глеб",
    "Арсений",
    "Демид",
    "Давид",
    "Тихон",
    "Мирослав",
    "Святослав",
    "Филипп",
    "Богдан",
    "Даниил",
    "Тимур",
    "Степан",
    // Both generations.
    "Александр",
    "Михаил",
    "Максим",
    "Иван",
    "Дмитрий",
    "Кирилл",
    "Егор",
    "Никита",
    "Илья",
    "Фёдор",
    "Андрей",
    "Алексей",
    "Роман",
    "Владимир",
    "Семён",
    "Григорий",
    "Георгий",
    "Николай",
    "Константин",
    "Павел",
    "Сергей",
    "Денис",
    "Антон",
    "Артур",
    "Евгений",
    "Ростислав",
    "Пётр",
    "Леонид",
    "Вячеслав",
    "Олег",
    "Родион",
    "Ян",
    "Вадим",
    "Руслан",
    "Станислав",
    // Mostly adults.
    "Виктор",
    "Владислав",
    "Игорь",
    "Юрий",
    "Василий",
    "Анатолий",
    "Валерий",
    "Виталий",
    "Геннадий",
    "Борис",
    "Аркадий",
    "Эдуард",
    "Валентин",
    "Вениамин",
    "Герман",
    "Ефим",
    "Марат",
    "Ринат",
    "Рустам",
    "Тарас",
    "Эльдар",
    "Яков",
    "Лука",
    "Кузьма",
    "Савва",
    "Гавриил",
    "Прохор",
    "Альберт",
    "Филимон",
    "Эрик",
    "Владлен",
    "Лаврентий",
    "Нестор",
    "Остап",
    "Ильдар",
    "Айдар",
    "Тагир",
    "Азат",
    "Камиль",
    "Эмиль",
];

/// Female first names, in the same generational order as `MALE`.
pub const FEMALE: &[&str] = &[
    // Mostly children.
    "София",
    "Ева",
    "Алиса",
    "Василиса",
    "Варвара",
    "Злата",
    "Милана",
    "Мирослава",
    "Ульяна",
    "Есения",
    "Стефания",
    "Таисия",
    "Агата",
    "Амелия",
    "Эмилия",
    "Мия",
    "Мирра",
    "Серафима",
    "Аглая",
    "Кира",
    "Арина",
    "Полина",
    "Вероника",
    "Майя",
    "Милена",
    // Both generations.
    "Анна",
    "Мария",
    "Виктория",
    "Дарья",
    "Елизавета",
    "Анастасия",
    "Екатерина",
    "Александра",
    "Ксения",
    "Валерия",
    "Алина",
    "Кристина",
    "Диана",
    "Ангелина",
    "Юлия",
    "Софья",
    "Маргарита",
    "Алёна",
    "Яна",
    "Евгения",
    "Карина",
    "Любовь",
    "Надежда",
    "Вера",
    "Дина",
    // Mostly adults.
    "Олеся",
    "Татьяна",
    "Ольга",
    "Ирина",
    "Наталья",
    "Елена",
    "Светлана",
    "Марина",
    "Оксана",
    "Людмила",
    "Галина",
    "Лариса",
    "Валентина",
    "Нина",
    "Жанна",
    "Инна",
    "Алла",
    "Лилия",
    "Эльвира",
    "Регина",
    "Зоя",
    "Раиса",
    "Тамара",
    "Римма",
    "Анжелика",
    "Снежана",
    "Инга",
    "Виолетта",
    "Илона",
    "Элеонора",
    "Лидия",
    "Антонина",
    "Нелли",
    "Роза",
    "Эльмира",
    "Зарина",
    "Гульнара",
    "Эвелина",
    "Фаина",
    "Стелла",
    "Анжела",
    "Алевтина",
    "Диляра",
    "Алсу",
    "Лейла",
    "Венера",
    "Ираида",
    "Эльза",
    "Камилла",
    "Мадина",
];

/// The slice of a first-name list children draw from.
pub const CHILD: Range<usize> = 0..50;
/// The slice of a first-name list adults draw from.
pub const ADULT: Range<usize> = 25..100;

/// Surnames in their masculine form; `surname_form` derives the feminine one.
pub const SURNAMES: &[&str] = &[
    "Иванов",
    "Смирнов",
    "Кузнецов",
    "Попов",
    "Васильев",
    "Петров",
    "Соколов",
    "Михайлов",
    "Новиков",
    "Фёдоров",
    "Морозов",
    "Волков",
    "Алексеев",
    "Лебедев",
    "Семёнов",
    "Егоров",
    "Павлов",
    "Козлов",
    "Степанов",
    "Николаев",
    "Орлов",
    "Андреев",
    "Макаров",
    "Никитин",
    "Захаров",
    "Зайцев",
    "Соловьёв",
    "Борисов",
    "Яковлев",
    "Григорьев",
    "Романов",
    "Воробьёв",
    "Сергеев",
    "Кузьмин",
    "Фролов",
    "Александров",
    "Дмитриев",
    "Королёв",
    "Гусев",
    "Киселёв",
    "Ильин",
    "Максимов",
    "Поляков",
    "Сорокин",
    "Виноградов",
    "Ковалёв",
    "Белов",
    "Медведев",
    "Антонов",
    "Тарасов",
    "Жуков",
    "Баранов",
    "Филиппов",
    "Комаров",
    "Давыдов",
    "Беляев",
    "Герасимов",
    "Богданов",
    "Осипов",
    "Сидоров",
    "Матвеев",
    "Титов",
    "Марков",
    "Миронов",
    "Крылов",
    "Куликов",
    "Карпов",
    "Власов",
    "Мельников",
    "Денисов",
    "Гаврилов",
    "Тихонов",
    "Казаков",
    "Афанасьев",
    "Данилов",
    "Савельев",
    "Тимофеев",
    "Фомин",
    "Чернов",
    "Абрамов",
    "Мартынов",
    "Ефимов",
    "Федотов",
    "Щербаков",
    "Назаров",
    "Калинин",
    "Исаев",
    "Чернышёв",
    "Быков",
    "Маслов",
    "Родионов",
    "Коновалов",
    "Лазарев",
    "Воронин",
    "Климов",
    "Филатов",
    "Пономарёв",
    "Голубев",
    "Кудрявцев",
    "Прохоров",
    "Наумов",
    "Потапов",
    "Журавлёв",
    "Овчинников",
    "Трофимов",
    "Леонов",
    "Соболев",
    "Ермаков",
    "Колесников",
    "Гончаров",
    "Емельянов",
    "Никифоров",
    "Грачёв",
    "Котов",
    "Гришин",
    "Ефремов",
    "Архипов",
    "Громов",
    "Кириллов",
    "Малышев",
    "Панов",
    "Моисеев",
    "Румянцев",
    "Акимов",
    "Кондратьев",
    "Бирюков",
    "Горбунов",
    "Анисимов",
    "Сафин",
    "Хабибуллин",
    "Галиев",
    "Гарипов",
    "Алиев",
    "Петровский",
    "Вишневский",
    "Покровский",
    "Троицкий",
    "Успенский",
    "Соколовский",
    "Белецкий",
    "Островский",
    "Донской",
    "Трубецкой",
    "Белый",
    "Шевченко",
    "Кравченко",
    "Бондаренко",
    "Коваленко",
    "Ткаченко",
    "Лысенко",
    "Ким",
    "Пак",
    "Цой",
    "Черных",
    "Седых",
    "Мельник",
    "Шевчук",
    "Петросян",
    "Акопян",
    "Беридзе",
];

/// The surname for a man or a woman of a family whose masculine surname is `base`.
/// Russian possessive (-ов, -ин) and adjectival (-ский, -ой, -ый) surnames agree in
/// gender; Ukrainian -енко, Korean, Armenian, Georgian and -их surnames do not change.
pub fn surname_form(base: &str, female: bool) -> String {
    if !female {
        return base.to_string();
    }
    for (ending, feminine) in [("ский", "ская"), ("цкий", "цкая"), ("ской", "ская"), ("цкой", "цкая"), ("ый", "ая")]
    {
        if let Some(stem) = base.strip_suffix(ending) {
            return format!("{stem}{feminine}");
        }
    }
    if ["ов", "ев", "ёв", "ин", "ын"].iter().any(|e| base.ends_with(e)) {
        return format!("{base}а");
    }
    base.to_string()
}

/// The patronymic a child of `father` carries: Иван → Иванович / Ивановна.
pub fn patronymic(father: &str, female: bool) -> String {
    let irregular = match father {
        "Илья" => Some(("Ильич", "Ильинична")),
        "Кузьма" => Some(("Кузьмич", "Кузьминична")),
        "Лука" => Some(("Лукич", "Лукинична")),
        "Пётр" => Some(("Петрович", "Петровна")),
        "Павел" => Some(("Павлович", "Павловна")),
        "Лев" => Some(("Львович", "Львовна")),
        "Михаил" => Some(("Михайлович", "Михайловна")),
        "Гавриил" => Some(("Гаврилович", "Гавриловна")),
        "Яков" => Some(("Яковлевич", "Яковлевна")),
        "Дмитрий" => Some(("Дмитриевич", "Дмитриевна")),
        "Георгий" => Some(("Георгиевич", "Георгиевна")),
        _ => None,
    };
    if let Some((male, fem)) = irregular {
        return if female { fem } else { male }.to_string();
    }
    let (stem, male, fem) = if let Some(stem) = father.strip_suffix("ий") {
        (stem, "ьевич", "ьевна")
    } else if let Some(stem) = father.strip_suffix('й').or_else(|| father.strip_suffix('ь')) {
        (stem, "евич", "евна")
    } else if let Some(stem) = father.strip_suffix('а').or_else(|| father.strip_suffix('я')) {
        (stem, "ич", "ична")
    } else {
        (father, "ович", "овна")
    };
    format!("{stem}{}", if female { fem } else { male })
}

/// Appends the Latin transliteration of `text` to `out`, lower-case, dropping
/// anything that is not a letter or a digit, so a login is only [a-z0-9].
pub fn transliterate_into(text: &str, out: &mut String) {
    for c in text.chars().flat_map(char::to_lowercase) {
        let latin = match c {
            'а' => "a",
            'б' => "b",
            'в' => "v",
            'г' => "g",
            'д' => "d",
            'е' | 'ё' | 'э' => "e",
            'ж' => "zh",
            'з' => "z",
            'и' => "i",
            'й' | 'ы' => "y",
            'к' => "k",
            'л' => "l",
            'м' => "m",
            'н' => "n",
            'о' => "o",
            'п' => "p",
            'р' => "r",
            'с' => "s",
            'т' => "t",
            'у' => "u",
            'ф' => "f",
            'х' => "kh",
            'ц' => "ts",
            'ч' => "ch",
            'ш' => "sh",
            'щ' => "shch",
            'ю' => "yu",
            'я' => "ya",
            'ъ' | 'ь' => "",
            c if c.is_ascii_alphanumeric() => {
                out.push(c);
                continue;
            }
            _ => "",
        };
        out.push_str(latin);
    }
}

/// The first letter of a name, transliterated: "Шамиль" → "sh".
pub fn initial_into(name: &str, out: &mut String) {
    if let Some(c) = name.chars().next() {
        let mut buf = [0u8; 4];
        transliterate_into(c.encode_utf8(&mut buf), out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn the_lists_are_large_enough_and_have_no_duplicates() {
        for (list, min) in [(MALE, 100), (FEMALE, 100), (SURNAMES, 150)] {
            assert!(list.len() >= min, "{} < {min}", list.len());
            let unique: HashSet<_> = list.iter().collect();
            assert_eq!(unique.len(), list.len());
        }
        assert!(CHILD.end <= MALE.len() && ADULT.end <= MALE.len() && ADULT.end <= FEMALE.len());
    }

    #[test]
    fn feminine_surnames_agree_in_gender_unless_immutable() {
        for (base, fem) in [
            ("Иванов", "Иванова"),
            ("Соловьёв", "Соловьёва"),
            ("Ильин", "Ильина"),
            ("Петровский", "Петровская"),
            ("Троицкий", "Троицкая"),
            ("Трубецкой", "Трубецкая"),
            ("Белый", "Белая"),
            ("Ким", "Ким"),
            ("Цой", "Цой"),
            ("Шевченко", "Шевченко"),
            ("Черных", "Черных"),
            ("Петросян", "Петросян"),
            ("Мельник", "Мельник"),
        ] {
            assert_eq!(surname_form(base, true), fem);
            assert_eq!(surname_form(base, false), base);
        }
    }

    #[test]
    fn patronymics_follow_russian_rules() {
        for (father, son, daughter) in [
            ("Иван", "Иванович", "Ивановна"),
            ("Сергей", "Сергеевич", "Сергеевна"),
            ("Николай", "Николаевич", "Николаевна"),
            ("Юрий", "Юрьевич", "Юрьевна"),
            ("Евгений", "Евгеньевич", "Евгеньевна"),
            ("Дмитрий", "Дмитриевич", "Дмитриевна"),
            ("Игорь", "Игоревич", "Игоревна"),
            ("Никита", "Никитич", "Никитична"),
            ("Илья", "Ильич", "Ильинична"),
            ("Пётр", "Петрович", "Петровна"),
            ("Павел", "Павлович", "Павловна"),
            ("Лев", "Львович", "Львовна"),
            ("Михаил", "Михайлович", "Михайловна"),
            ("Фёдор", "Фёдорович", "Фёдоровна"),
            ("Камиль", "Камилевич", "Камилевна"),
        ] {
            assert_eq!(patronymic(father, false), son);
            assert_eq!(patronymic(father, true), daughter);
        }
    }

    #[test]
    fn every_male_name_yields_a_well_formed_patronymic() {
        for name in MALE {
            let son = patronymic(name, false);
            let daughter = patronymic(name, true);
            assert!(son.ends_with("вич") || son.ends_with("ич"), "{name} → {son}");
            assert!(daughter.ends_with("вна") || daughter.ends_with("ична"), "{name} → {daughter}");
        }
    }

    #[test]
    fn transliteration_yields_lowercase_ascii() {
        let mut out = String::new();
        transliterate_into("Щербакова-Ёлкина Юлия", &mut out);
        assert_eq!(out, "shcherbakovaelkinayuliya");
        out.clear();
        initial_into("Шамиль", &mut out);
        assert_eq!(out, "sh");
    }
}
