//! A column's `type`: the portable names, with suggestions for other databases'
//! and languages' names for them.

use std::ops::Range;

use super::Parser;
use crate::diagnostics::Problem;
use crate::schema::Type;
use crate::text::{backticked, closest};

impl Parser<'_> {
    pub(super) fn column_type(&mut self, name: &str, span: Range<usize>) -> Option<Type> {
        match Type::parse_portable(name) {
            Some(ty) => Some(ty),
            None => {
                let bare = name.split('(').next().unwrap_or(name).trim();
                // Other databases' and languages' names for the portable types, so
                // that a typo of either (`strng`, `integr`) gets a suggestion.
                const SYNONYMS: &[(&str, &str)] = &[
                    ("int", "integer"),
                    ("int4", "integer"),
                    ("serial", "integer"),
                    ("int8", "bigint"),
                    ("bigserial", "bigint"),
                    ("int2", "smallint"),
                    ("string", "text"),
                    ("str", "text"),
                    ("bool", "boolean"),
                    ("float", "double"),
                    ("float8", "double"),
                    ("double precision", "double"),
                    ("decimal", "numeric"),
                    ("datetime", "timestamp"),
                    ("blob", "bytes"),
                    ("bytea", "bytes"),
                    ("jsonb", "json"),
                ];
                let known = crate::schema::types::PORTABLE_TYPE_NAMES
                    .iter()
                    .map(|known| known.split('(').next().unwrap_or(known));
                let lowered = bare.to_lowercase();
                let hit = SYNONYMS
                    .iter()
                    .find(|(synonym, _)| *synonym == lowered)
                    .map(|(_, portable)| *portable)
                    .or_else(|| {
                        let word = closest(bare, known.chain(SYNONYMS.iter().map(|s| s.0)))?;
                        Some(
                            SYNONYMS
                                .iter()
                                .find(|(synonym, _)| *synonym == word)
                                .map_or(word, |(_, portable)| *portable),
                        )
                    });
                // Only a name schema.toml accepts: `varchar` alone is not one, so a
                // parameterised type is suggested with the arguments written
                // (`NVARCHAR(40)` → `varchar(40)`) or with its placeholder.
                let arguments = name[bare.len()..].trim();
                let hint = hit
                    .map(|hit| {
                        let template = crate::schema::types::PORTABLE_TYPE_NAMES
                            .iter()
                            .find(|known| known.split('(').next() == Some(hit))
                            .copied()
                            .unwrap_or(hit);
                        let with_arguments = format!("{hit}{arguments}");
                        if Type::parse_portable(&with_arguments).is_some() {
                            with_arguments
                        } else {
                            template.to_string()
                        }
                    })
                    .map(|hit| format!("; did you mean `{hit}`?"))
                    .unwrap_or_default();
                self.reader.problem(
                    Problem::new(span, format!("unknown column type `{name}`{hint}"))
                        .label("not a portable type")
                        .help(format!(
                            "types are {}",
                            backticked(crate::schema::types::PORTABLE_TYPE_NAMES)
                        )),
                );
                None
            }
        }
    }
}
