use phonenumber::{Mode, PhoneNumber, Type, country, metadata::DATABASE};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Nobody types a phone number this long; refusing early keeps the parser's
/// work bounded whatever a client sends.
const MAX_INPUT_LEN: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("the phone number is empty")]
    Empty,
    #[error("this is not a phone number")]
    Malformed,
    #[error("SMS codes go to mobile numbers; this one is not a mobile number")]
    NotMobile,
}

/// A valid mobile phone number, kept in E.164 form (`+79123456789`): the one
/// spelling stored and compared, whatever the person typed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Phone {
    e164: String,
    international: String,
}

impl Phone {
    /// Reads a number the way people in Russia write it: `8 (912) 345-67-89`,
    /// `+7 912 345-67-89`, `9123456789`. A number without `+` is Russian; a
    /// foreign one needs its `+` and country code.
    pub fn parse(raw: &str) -> Result<Phone, PhoneError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(PhoneError::Empty);
        }
        // The parser also accepts letters ("vanity" numbers) and extensions,
        // neither of which can receive an SMS.
        let allowed = |c: char| c.is_ascii_digit() || c.is_whitespace() || matches!(c, '+' | '-' | '(' | ')' | '.');
        if raw.len() > MAX_INPUT_LEN || !raw.chars().all(allowed) || raw.chars().filter(|c| *c == '+').count() > 1 {
            return Err(PhoneError::Malformed);
        }
        let number = phonenumber::parse(Some(country::Id::RU), raw).map_err(|_| PhoneError::Malformed)?;
        if number.extension().is_some() || !phonenumber::is_valid(&number) {
            return Err(PhoneError::Malformed);
        }
        match number.number_type(&DATABASE) {
            Type::Mobile | Type::FixedLineOrMobile => Ok(Phone::from_valid(&number)),
            _ => Err(PhoneError::NotMobile),
        }
    }

    fn from_valid(number: &PhoneNumber) -> Phone {
        Phone {
            e164: number.format().mode(Mode::E164).to_string(),
            international: number.format().mode(Mode::International).to_string(),
        }
    }

    /// `+79123456789`.
    pub fn as_e164(&self) -> &str {
        &self.e164
    }

    /// `+7 912 345-67-89`.
    pub fn display(&self) -> String {
        self.international.clone()
    }

    /// `+7 912 ***-**-89`: enough for the owner to recognise their number on a
    /// confirmation screen, not enough to be worth stealing from a screenshot.
    /// Never show even this to anyone else.
    pub fn masked(&self) -> String {
        let (country_code, national) = self.international.split_once(' ').unwrap_or(("", &self.international));
        // The first group is the operator or area code: it identifies nobody.
        let (first_group, rest) = national.split_once(' ').unwrap_or(("", national));
        let digits_in_rest = rest.chars().filter(char::is_ascii_digit).count();
        let mut seen = 0;
        let masked_rest: String = rest
            .chars()
            .map(|c| {
                if !c.is_ascii_digit() {
                    return c;
                }
                seen += 1;
                if seen + 2 > digits_in_rest { c } else { '*' }
            })
            .collect();
        [country_code, first_group, &masked_rest]
            .iter()
            .filter(|part| !part.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl Serialize for Phone {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.e164)
    }
}

impl<'de> Deserialize<'de> for Phone {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Phone::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn russian_ways_of_writing_a_mobile_number_all_normalise_to_e164() {
        for raw in [
            "8 (912) 345-67-89",
            "+7 912 345-67-89",
            "89123456789",
            "9123456789",
            "+79123456789",
            "8-912-345-67-89",
            "79123456789",
            "+7(912)3456789",
            " 8 912 345 67 89 ",
            "+7\u{a0}912\u{a0}345\u{a0}67\u{a0}89",
        ] {
            let phone = Phone::parse(raw).unwrap_or_else(|e| panic!("{raw:?}: {e}"));
            assert_eq!(phone.as_e164(), "+79123456789", "{raw:?}");
        }
    }

    #[test]
    fn a_number_is_displayed_in_international_format() {
        assert_eq!(Phone::parse("89123456789").unwrap().display(), "+7 912 345-67-89");
    }

    #[test]
    fn the_masked_number_keeps_the_operator_code_and_the_last_two_digits() {
        assert_eq!(Phone::parse("89123456789").unwrap().masked(), "+7 912 ***-**-89");
        let masked = Phone::parse("+44 7911 123456").unwrap().masked();
        assert!(masked.starts_with("+44 7911 "), "{masked}");
        assert!(masked.ends_with("56"), "{masked}");
        assert_eq!(masked.chars().filter(char::is_ascii_digit).count(), 2 + 4 + 2, "{masked}");
    }

    #[test]
    fn a_blank_number_is_empty() {
        assert_eq!(Phone::parse(""), Err(PhoneError::Empty));
        assert_eq!(Phone::parse("   "), Err(PhoneError::Empty));
    }

    #[test]
    fn text_and_wrong_lengths_are_malformed() {
        for raw in [
            "abc",
            "912345",
            "8912345678",
            "891234567890",
            "+7 912 345-67-89 ext. 5",
            "8 800 FLOWERS",
            "++79123456789",
            "12",
            &"9".repeat(200),
        ] {
            assert_eq!(Phone::parse(raw), Err(PhoneError::Malformed), "{raw:?}");
        }
    }

    #[test]
    fn a_landline_or_a_toll_free_number_is_not_mobile() {
        assert_eq!(Phone::parse("8 (301) 123-45-67"), Err(PhoneError::NotMobile));
        assert_eq!(Phone::parse("+7 301 123-45-67"), Err(PhoneError::NotMobile));
        // The parser misreads 8-800 numbers (it takes "00" for leading zeros); refused either way.
        assert!(Phone::parse("8 800 123-45-67").is_err());
    }

    #[test]
    fn a_foreign_mobile_with_a_plus_is_accepted() {
        assert_eq!(Phone::parse("+44 7911 123456").unwrap().as_e164(), "+447911123456");
        assert_eq!(Phone::parse("+375 29 123-45-67").unwrap().as_e164(), "+375291234567");
    }

    #[test]
    fn a_phone_serialises_as_its_e164_string_and_parses_back() {
        let phone = Phone::parse("8 (912) 345-67-89").unwrap();
        let json = serde_json::to_string(&phone).unwrap();
        assert_eq!(json, "\"+79123456789\"");
        assert_eq!(serde_json::from_str::<Phone>(&json).unwrap(), phone);
        assert!(serde_json::from_str::<Phone>("\"not a phone\"").is_err());
    }
}
