//! The rules of the specification that need the schema's types and that async-graphql's
//! validator does not check (or panics on), run by the document step before it:
//! - a variable's type is one the schema knows (5.8.2 with 5.4.1.1's "Unknown type"): the
//!   validator panics on a default value of an unknown type;
//! - every variable stands where its type is allowed (5.8.5), in arguments and in the lists and
//!   input objects they hold: the validator let `$a: Int` into an `ID!` argument, and the field
//!   then failed as it ran;
//! - an `Int` literal fits 32 bits, an input object's place holds an object, and an input
//!   object names only its type's fields and every required one (5.6.1, 5.6.2, 5.6.4): the validator let 4294967296 through, and any field
//!   beside a variable in an input object, and the field then failed as it ran or ignored it.
//!
//! The types are read from the schema's SDL, with the introspection types beside them, as
//! graphql-js reads `schema.graphql`. Messages are graphql-js's.

mod values;

use std::collections::{HashMap, HashSet};

use async_graphql::parser::types::{
    BaseType, ExecutableDocument, OperationType, Type, TypeKind, TypeSystemDefinition,
};
use async_graphql::{Name, Positioned};

use super::rules::invalid;
use crate::graphql::error::Refused;

/// The introspection types' fields that take arguments or lead to other types, as the
/// specification defines them (the SDL async-graphql prints leaves them out).
const INTROSPECTION: &str = r#"
type __Schema { types: [__Type!]! queryType: __Type! mutationType: __Type subscriptionType: __Type directives: [__Directive!]! description: String }
type __Type { kind: __TypeKind! name: String description: String specifiedByURL: String isOneOf: Boolean
  fields(includeDeprecated: Boolean = false): [__Field!] interfaces: [__Type!] possibleTypes: [__Type!]
  enumValues(includeDeprecated: Boolean = false): [__EnumValue!] inputFields(includeDeprecated: Boolean = false): [__InputValue!] ofType: __Type }
type __Field { name: String! description: String args(includeDeprecated: Boolean = false): [__InputValue!]! type: __Type! isDeprecated: Boolean! deprecationReason: String }
type __InputValue { name: String! description: String type: __Type! defaultValue: String isDeprecated: Boolean! deprecationReason: String }
type __EnumValue { name: String! description: String isDeprecated: Boolean! deprecationReason: String }
type __Directive { name: String! description: String isRepeatable: Boolean! locations: [__DirectiveLocation!]! args(includeDeprecated: Boolean = false): [__InputValue!]! }
enum __TypeKind { SCALAR OBJECT INTERFACE UNION ENUM INPUT_OBJECT LIST NON_NULL }
enum __DirectiveLocation { QUERY MUTATION SUBSCRIPTION FIELD FRAGMENT_DEFINITION FRAGMENT_SPREAD INLINE_FRAGMENT VARIABLE_DEFINITION SCHEMA SCALAR OBJECT FIELD_DEFINITION ARGUMENT_DEFINITION INTERFACE UNION ENUM ENUM_VALUE INPUT_OBJECT INPUT_FIELD_DEFINITION }
"#;

/// Scalars every schema has, which its SDL does not print.
const BUILT_IN_SCALARS: [&str; 5] = ["Int", "Float", "String", "Boolean", "ID"];

/// Where a value stands: its type, and whether the argument or input field has a default.
#[derive(Debug, Clone)]
pub(super) struct Slot {
    pub(super) ty: Type,
    pub(super) has_default: bool,
}

/// A field of an object or interface type.
#[derive(Debug)]
pub(super) struct FieldType {
    pub(super) arguments: HashMap<String, Slot>,
    /// The named type it returns.
    pub(super) returns: String,
    /// The type it returns, lists and non-null included.
    pub(super) ty: Type,
}

/// The schema's types, as the rules of this module need them.
#[derive(Debug, Default)]
pub struct SchemaTypes {
    names: HashSet<String>,
    /// (type, field) of object and interface types.
    fields: HashMap<(String, String), FieldType>,
    /// (input type, field) of input object types.
    pub(super) input_fields: HashMap<(String, String), Slot>,
    /// Input object types, with their required fields (non-null, without a default).
    pub(super) inputs: HashMap<String, Vec<(String, Type)>>,
    roots: [Option<String>; 3],
    /// Object types (not interfaces or unions).
    objects: HashSet<String>,
    /// Scalar and enum types.
    leaves: HashSet<String>,
    /// Enum types, with their values.
    pub(super) enums: HashMap<String, HashSet<String>>,
}

pub(super) fn named(ty: &Type) -> &Name {
    match &ty.base {
        BaseType::Named(name) => name,
        BaseType::List(inner) => named(inner),
    }
}

impl SchemaTypes {
    /// The types of the schema printed as `sdl`, with the built-in scalars and introspection's.
    pub fn from_sdl(sdl: &str) -> Self {
        let mut types = Self {
            names: BUILT_IN_SCALARS.iter().map(|&n| n.to_owned()).collect(),
            leaves: BUILT_IN_SCALARS.iter().map(|&n| n.to_owned()).collect(),
            roots: [
                Some("Query".to_owned()),
                Some("Mutation".to_owned()),
                Some("Subscription".to_owned()),
            ],
            ..Self::default()
        };
        for text in [sdl, INTROSPECTION] {
            let Ok(schema) = async_graphql::parser::parse_schema(text) else {
                tracing::error!("the schema's SDL does not parse; type-based rules are off");
                continue;
            };
            for definition in schema.definitions {
                match definition {
                    TypeSystemDefinition::Schema(schema) => {
                        let root = |n: Option<Positioned<Name>>| n.map(|n| n.node.to_string());
                        types.roots = [
                            root(schema.node.query),
                            root(schema.node.mutation),
                            root(schema.node.subscription),
                        ];
                    }
                    TypeSystemDefinition::Type(ty) => types.add(ty.node),
                    TypeSystemDefinition::Directive(_) => {}
                }
            }
        }
        types.fields.insert(
            (
                types.roots[0].clone().unwrap_or_default(),
                "__type".to_owned(),
            ),
            FieldType {
                arguments: HashMap::from([(
                    "name".to_owned(),
                    Slot {
                        ty: Type::new("String!").unwrap_or_else(|| Type {
                            base: BaseType::Named(Name::new("String")),
                            nullable: false,
                        }),
                        has_default: false,
                    },
                )]),
                returns: "__Type".to_owned(),
                ty: Type {
                    base: BaseType::Named(Name::new("__Type")),
                    nullable: true,
                },
            },
        );
        if let Some(query) = types.roots[0].clone() {
            types.fields.insert(
                (query, "__schema".to_owned()),
                FieldType {
                    arguments: HashMap::new(),
                    returns: "__Schema".to_owned(),
                    ty: Type {
                        base: BaseType::Named(Name::new("__Schema")),
                        nullable: false,
                    },
                },
            );
        }
        types
    }

    fn add(&mut self, ty: async_graphql::parser::types::TypeDefinition) {
        let name = ty.name.node.to_string();
        let slot = |v: &async_graphql::parser::types::InputValueDefinition| Slot {
            ty: v.ty.node.clone(),
            has_default: v.default_value.is_some(),
        };
        match &ty.kind {
            TypeKind::Object(object) => {
                self.objects.insert(name.clone());
                self.add_fields(&name, &object.fields);
            }
            TypeKind::Interface(interface) => self.add_fields(&name, &interface.fields),
            TypeKind::InputObject(input) => {
                let required = input
                    .fields
                    .iter()
                    .filter(|f| !f.node.ty.node.nullable && f.node.default_value.is_none())
                    .map(|f| (f.node.name.node.to_string(), f.node.ty.node.clone()))
                    .collect();
                self.inputs.insert(name.clone(), required);
                for field in &input.fields {
                    self.input_fields.insert(
                        (name.clone(), field.node.name.node.to_string()),
                        slot(&field.node),
                    );
                }
            }
            TypeKind::Scalar => {
                self.leaves.insert(name.clone());
            }
            TypeKind::Enum(values) => {
                self.leaves.insert(name.clone());
                let values = values.values.iter();
                let values = values.map(|v| v.node.value.node.to_string()).collect();
                self.enums.insert(name.clone(), values);
            }
            TypeKind::Union(_) => {}
        }
        self.names.insert(name);
    }

    fn add_fields(
        &mut self,
        parent: &str,
        fields: &[Positioned<async_graphql::parser::types::FieldDefinition>],
    ) {
        for field in fields {
            let field = &field.node;
            let arguments = field
                .arguments
                .iter()
                .map(|a| {
                    let slot = Slot {
                        ty: a.node.ty.node.clone(),
                        has_default: a.node.default_value.is_some(),
                    };
                    (a.node.name.node.to_string(), slot)
                })
                .collect();
            self.fields.insert(
                (parent.to_owned(), field.name.node.to_string()),
                FieldType {
                    arguments,
                    returns: named(&field.ty.node).to_string(),
                    ty: field.ty.node.clone(),
                },
            );
        }
    }

    pub(super) fn field(&self, parent: &str, name: &str) -> Option<&FieldType> {
        self.fields.get(&(parent.to_owned(), name.to_owned()))
    }

    /// Whether `name` is an object type (not an interface or a union).
    pub(super) fn is_object(&self, name: &str) -> bool {
        self.objects.contains(name)
    }

    /// Whether `name` is a scalar or an enum.
    pub(super) fn is_leaf(&self, name: &str) -> bool {
        self.leaves.contains(name)
    }

    /// The root type of operations of type `ty`.
    pub(super) fn root(&self, ty: OperationType) -> Option<&str> {
        self.roots[match ty {
            OperationType::Query => 0,
            OperationType::Mutation => 1,
            OperationType::Subscription => 2,
        }]
        .as_deref()
    }

    /// Runs this module's rules over `doc` (see the module's notes).
    pub fn check(&self, doc: &ExecutableDocument) -> Result<(), Refused> {
        for (_, operation) in doc.operations.iter() {
            let operation = &operation.node;
            for definition in &operation.variable_definitions {
                let ty = &definition.node.var_type;
                let name = named(&ty.node);
                if !self.names.contains(name.as_str()) {
                    return Err(invalid(format!("Unknown type \"{name}\"."), vec![ty.pos]));
                }
            }
            let root = self.root(operation.ty);
            let mut walk = values::Walk {
                types: self,
                doc,
                definitions: &operation.variable_definitions,
                open: Vec::new(),
            };
            // A default value is a value of the variable's type (5.6.1).
            for definition in &operation.variable_definitions {
                if let Some(default) = &definition.node.default_value {
                    let slot = (&definition.node.var_type.node, false);
                    walk.value(&default.node.clone().into_value(), default.pos, Some(slot))?;
                }
            }
            walk.set(&operation.selection_set.node, root)?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const SDL: &str =
        "type Query { city(code: ID!): City cities(first: Int = 20, filter: F): [City!]! }
        type City { code: ID! }
        input F { codes: [ID!] period: Int }";

    fn refusal(text: &str) -> Option<String> {
        let doc = async_graphql::parser::parse_query(text).unwrap();
        SchemaTypes::from_sdl(SDL)
            .check(&doc)
            .err()
            .map(|e| e.error.message)
    }

    #[test]
    fn variables_stand_where_graphql_js_allows_them() {
        assert_eq!(refusal("query($a: ID!) { city(code: $a) { code } }"), None);
        assert_eq!(
            refusal("query($a: Int) { city(code: $a) { code } }").as_deref(),
            Some("Variable \"$a\" of type \"Int\" used in position expecting type \"ID!\".")
        );
        assert_eq!(
            refusal("query($a: ID) { city(code: $a) { code } }").as_deref(),
            Some("Variable \"$a\" of type \"ID\" used in position expecting type \"ID!\".")
        );
        assert_eq!(
            refusal("query($a: ID = \"1\") { city(code: $a) { code } }"),
            None
        );
        // A location with a default takes a nullable variable; a list item, an input field.
        assert_eq!(
            refusal("query($n: Int) { cities(first: $n) { code } }"),
            None
        );
        assert_eq!(
            refusal("query($c: String) { cities(filter: { codes: [$c] }) { code } }").as_deref(),
            Some("Variable \"$c\" of type \"String\" used in position expecting type \"ID!\".")
        );
        assert_eq!(
            refusal("query($c: [ID!]!) { cities(filter: { codes: $c }) { code } }"),
            None
        );
        assert_eq!(
            refusal(
                "query($t: String!) { __type(name: $t) { fields(includeDeprecated: true) { name } } }"
            ),
            None
        );
        assert_eq!(
            refusal("query($t: String) { __type(name: $t) { name } }").as_deref(),
            Some("Variable \"$t\" of type \"String\" used in position expecting type \"String!\".")
        );
    }

    #[test]
    fn unknown_types_and_int_literals_out_of_range_are_refused() {
        assert_eq!(
            refusal("query($a: [Foo] = [1]) { cities { code } }").as_deref(),
            Some("Unknown type \"Foo\".")
        );
        assert_eq!(
            refusal("{ cities(filter: { period: 4294967296 }) { code } }").as_deref(),
            Some("Int cannot represent non 32-bit signed integer value: 4294967296")
        );
        assert_eq!(refusal("{ cities(first: -2147483648) { code } }"), None);
        assert_eq!(
            refusal("query($f: F = 1) { cities(filter: $f) { code } }").as_deref(),
            Some("Expected value of type \"F\", found 1.")
        );
        assert_eq!(
            refusal("query($c: ID!) { cities(filter: { codes: [$c], period: null }) { code } }"),
            None
        );
        assert_eq!(
            refusal("query($c: ID) { city(code: null) { code } }").as_deref(),
            Some("Expected value of type \"ID!\", found null.")
        );
        assert_eq!(
            refusal("{ cities(filter: ENTERPRISE) { code } }").as_deref(),
            Some("Expected value of type \"F\", found ENTERPRISE.")
        );
        assert_eq!(
            refusal("query($p: Int) { cities(filter: { nope: [$p] }) { code } }").as_deref(),
            Some("Field \"nope\" is not defined by type \"F\".")
        );
    }
}
