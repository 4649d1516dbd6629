//! Label and field selectors with upstream's grammar, matching and error messages.

mod fields;
mod labels;
mod parser;
mod validation;

pub use fields::{
    escape_value, field_value, selectable_fields, unescape_value, FieldOp, FieldRequirement,
    FieldSelector,
};
pub use labels::{LabelSelector, Operator, Requirement};
pub use validation::{label_value_errors, qualified_name_errors};

#[cfg(test)]
mod tests;
