// Compiled twice, inside `mod sqlite` and `mod postgres`, with `Db` naming the
// backend. Every statement here must mean the same thing on both.
//
// What every SQL module shares (the submodules reach it through `use super::*`).
// The imports serve the roster files included beside this one in the backend
// module: roster_*_queries.rs and school_account_queries.rs.

use crate::sync::{self, Existing, Incoming, Key, Keys, Kind, Plan, Planner, Table, Val};
use crate::{
    ClassLink, ClassView, Conflict, Credentials, ImportError, LinkChange, NewPerson, OrgView, PasswordSlip,
    PeopleFilter, PersonBrief, PersonCard, PersonView, RoleView, SectionView, StorageError, StudentView, SubjectView,
};
use chrono::NaiveDate;
use futures_util::TryStreamExt;
use futures_util::future::join;
use roster::ids::{ClassId, OrgId, PersonId, SectionId, SubjectId};
use roster::import::{Batch, Counts, EnrollmentRole, Mode, Origin, Part, Person, Row as BatchRow, Summary};
use roster::{ClassName, PersonName, Role};
use sqlx::query_builder::Separated;
use sqlx::{Pool, QueryBuilder, Row};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

type Tx = sqlx::Transaction<'static, Db>;
type Conn = <Db as sqlx::Database>::Connection;

/// SQLite allows 32,766 bound values per statement, PostgreSQL 65,535.
const MAX_BINDS: usize = 30_000;

fn found(rows_affected: u64) -> Result<(), StorageError> {
    if rows_affected == 0 { Err(StorageError::NotFound) } else { Ok(()) }
}
