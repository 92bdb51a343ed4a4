//! The walk `types::SchemaTypes::check` makes through one operation: the rules on values and
//! variables where they stand (see `types` for which and why).

use async_graphql::parser::types::{
    BaseType, ExecutableDocument, Selection, SelectionSet, Type, VariableDefinition,
};
use async_graphql::{Name, Pos, Positioned};
use async_graphql_value::{ConstValue, Value};

use super::{SchemaTypes, named};
use crate::graphql::admission::rules::invalid;
use crate::graphql::error::Refused;

/// One operation's walk through its selections, fragments followed.
pub(super) struct Walk<'a> {
    pub(super) types: &'a SchemaTypes,
    pub(super) doc: &'a ExecutableDocument,
    pub(super) definitions: &'a [Positioned<VariableDefinition>],
    /// Fragments being walked (cycles were refused before; this keeps the walk finite).
    pub(super) open: Vec<&'a Name>,
}

impl<'a> Walk<'a> {
    pub(super) fn set(
        &mut self,
        set: &'a SelectionSet,
        parent: Option<&str>,
    ) -> Result<(), Refused> {
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    let def = parent.and_then(|p| self.types.field(p, &field.name.node));
                    for (argument, value) in &field.arguments {
                        let slot = def.and_then(|d| d.arguments.get(argument.node.as_str()));
                        self.value(&value.node, value.pos, slot.map(|s| (&s.ty, s.has_default)))?;
                    }
                    let returns = def.map(|d| d.returns.clone());
                    self.set(&field.selection_set.node, returns.as_deref())?;
                }
                Selection::InlineFragment(inline) => {
                    let on = inline.node.type_condition.as_ref();
                    let ty = on.map_or(parent, |c| Some(c.node.on.node.as_str()));
                    self.set(&inline.node.selection_set.node, ty)?;
                }
                Selection::FragmentSpread(spread) => {
                    let doc = self.doc;
                    let name = &spread.node.fragment_name.node;
                    if let Some((name, fragment)) = doc.fragments.get_key_value(name)
                        && !self.open.contains(&name)
                    {
                        self.open.push(name);
                        let on = fragment.node.type_condition.node.on.node.as_str();
                        let walked = self.set(&fragment.node.selection_set.node, Some(on));
                        self.open.pop();
                        walked?;
                    }
                }
            }
        }
        Ok(())
    }

    /// A value standing at `slot` (its type and whether it has a default), if known.
    pub(super) fn value(
        &self,
        value: &Value,
        pos: Pos,
        slot: Option<(&Type, bool)>,
    ) -> Result<(), Refused> {
        let Some((ty, has_default)) = slot else {
            return Ok(());
        };
        // graphql-js judges a literal by the named type of where it stands, lists or not.
        let input = named(ty);
        if matches!(
            value,
            Value::Number(_) | Value::String(_) | Value::Boolean(_) | Value::Enum(_)
        ) && self.types.inputs.contains_key(input.as_str())
        {
            return Err(invalid(
                format!("Expected value of type \"{ty}\", found {value}."),
                vec![pos],
            ));
        }
        let list_at_named =
            matches!(value, Value::List(_)) && matches!(ty.base, BaseType::Named(_));
        if list_at_named && self.types.inputs.contains_key(input.as_str()) {
            return Err(invalid(
                format!("Expected value of type \"{ty}\", found {value}."),
                vec![pos],
            ));
        }
        if (list_at_named || !matches!(value, Value::List(_)))
            && let Some(message) = self.leaf_literal(value, input.as_str())
        {
            return Err(invalid(message, vec![pos]));
        }
        if let Value::String(text) = value
            && self.types.enums.contains_key(input.as_str())
        {
            return Err(invalid(
                format!("Enum \"{input}\" cannot represent non-enum value: \"{text}\"."),
                vec![pos],
            ));
        }
        match value {
            Value::Variable(variable) => self.variable(variable, pos, ty, has_default),
            Value::Null if !ty.nullable => Err(invalid(
                format!("Expected value of type \"{ty}\", found null."),
                vec![pos],
            )),
            Value::Number(n) if input == "Int" => match n.as_i64() {
                Some(i) if i32::try_from(i).is_err() => Err(invalid(
                    format!("Int cannot represent non 32-bit signed integer value: {n}"),
                    vec![pos],
                )),
                _ => Ok(()),
            },
            Value::List(items) => {
                // An item's type is the list's item type, or the type itself where one value
                // stands for a list of one (graphql-js's TypeInfo).
                let item = match &ty.base {
                    BaseType::List(inner) => inner.as_ref(),
                    BaseType::Named(_) => ty,
                };
                items
                    .iter()
                    .try_for_each(|v| self.value(v, pos, Some((item, false))))
            }
            Value::Object(fields) => {
                let Some(required) = self.types.inputs.get(input.as_str()) else {
                    return Ok(());
                };
                for (field, v) in fields {
                    let key = (input.to_string(), field.to_string());
                    let Some(slot) = self.types.input_fields.get(&key) else {
                        return Err(invalid(
                            format!("Field \"{field}\" is not defined by type \"{input}\"."),
                            vec![pos],
                        ));
                    };
                    self.value(v, pos, Some((&slot.ty, slot.has_default)))?;
                }
                if let Some((field, ty)) = required
                    .iter()
                    .find(|(field, _)| !fields.contains_key(field.as_str()))
                {
                    return Err(invalid(
                        format!(
                            "Field \"{input}.{field}\" of required type \"{ty}\" was not provided."
                        ),
                        vec![pos],
                    ));
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Why graphql-js's `parseLiteral` of the leaf type `input` refuses the literal `value`
    /// (5.6.1), if it does. async-graphql makes the same check only of values that hold no
    /// variable, and only in the operation it runs; this one holds for every literal, in every
    /// operation. A string at an enum's place is refused before, with graphql-js's words.
    fn leaf_literal(&self, value: &Value, input: &str) -> Option<String> {
        let integer = |n: &async_graphql_value::Number| n.is_i64() || n.is_u64();
        let shown = || value.to_string();
        match (input, value) {
            (_, Value::Variable(_) | Value::Null) => None,
            ("ID", Value::String(_)) | ("String", Value::String(_)) => None,
            ("ID", Value::Number(n)) | ("Int", Value::Number(n)) if integer(n) => None,
            ("Float", Value::Number(_)) | ("Boolean", Value::Boolean(_)) => None,
            ("ID", _) => Some(format!(
                "ID cannot represent a non-string and non-integer value: {}",
                shown()
            )),
            ("String", _) => Some(format!(
                "String cannot represent a non string value: {}",
                shown()
            )),
            ("Int", _) => Some(format!(
                "Int cannot represent non-integer value: {}",
                shown()
            )),
            ("Float", _) => Some(format!(
                "Float cannot represent non numeric value: {}",
                shown()
            )),
            ("Boolean", _) => Some(format!(
                "Boolean cannot represent a non boolean value: {}",
                shown()
            )),
            (_, Value::String(_)) => None,
            (name, value) => {
                let values = self.types.enums.get(name)?;
                match value {
                    Value::Enum(v) if values.contains(v.as_str()) => None,
                    Value::Enum(v) => {
                        Some(format!("Value \"{v}\" does not exist in \"{name}\" enum."))
                    }
                    _ => Some(format!(
                        "Enum \"{name}\" cannot represent non-enum value: {}.",
                        shown()
                    )),
                }
            }
        }
    }

    /// 5.8.5: `$variable` may stand where `location` is expected.
    fn variable(
        &self,
        variable: &Name,
        pos: Pos,
        location: &Type,
        location_has_default: bool,
    ) -> Result<(), Refused> {
        let Some(definition) = self
            .definitions
            .iter()
            .find(|d| d.node.name.node == *variable)
        else {
            return Ok(());
        };
        let var_type = &definition.node.var_type.node;
        let allowed = if !location.nullable && var_type.nullable {
            let defaulted = definition
                .node
                .default_value
                .as_ref()
                .is_some_and(|d| d.node != ConstValue::Null);
            (defaulted || location_has_default)
                && subtype(
                    var_type,
                    &Type {
                        base: location.base.clone(),
                        nullable: true,
                    },
                )
        } else {
            subtype(var_type, location)
        };
        if allowed {
            return Ok(());
        }
        Err(invalid(
            format!(
                "Variable \"${variable}\" of type \"{var_type}\" used in position expecting type \
                 \"{location}\"."
            ),
            vec![definition.pos, pos],
        ))
    }
}

/// graphql-js's `isTypeSubTypeOf` for input types: the same type, or a non-null form of it.
fn subtype(sub: &Type, sup: &Type) -> bool {
    if !sup.nullable {
        return !sub.nullable && base_subtype(&sub.base, &sup.base);
    }
    base_subtype(&sub.base, &sup.base)
}

fn base_subtype(sub: &BaseType, sup: &BaseType) -> bool {
    match (sub, sup) {
        (BaseType::Named(a), BaseType::Named(b)) => a == b,
        (BaseType::List(a), BaseType::List(b)) => subtype(a, b),
        _ => false,
    }
}
