//! Read-model output resolved in document order, one field after another, with no future per
//! field. async-graphql resolves every object's fields concurrently: a boxed future per field,
//! joined in a `FuturesUnordered` (a reference-counted task and a waker registration each),
//! then merged into a map that grows as it goes; a list's items are joined the same way. The
//! objects wrapped here are plain data already in memory, whose fields are ready at their first
//! poll, so the concurrency bought nothing, and that machinery was a sixth of the CPU of a
//! dashboard request (ADR 0015).
//!
//! [`Serial`] wraps an object and [`SerialList`] a list of objects. The schema sees exactly the
//! wrapped type (`T`, `[T!]!`): type name and type information are `T`'s own, so the SDL does
//! not change. Resolution walks the selection set as async-graphql's `Fields::add_set` does:
//! response keys (aliases), `__typename`, fragment spreads and inline fragments with their type
//! conditions, repeated keys merged, a field's error recorded and its key left out. `@skip` and
//! `@include` were already applied to the document before execution. A schema with custom
//! directives takes async-graphql's own path. Extensions (which observe each field) are not
//! visible from here: vigil's schema has none (`graphql::builder`), and adding one means
//! removing these wrappers first.
//! Must not wrap a type whose fields do their own I/O: they would wait for one another.

use std::borrow::Cow;

use async_graphql::indexmap::IndexMap;
use async_graphql::indexmap::map::Entry;
use async_graphql::parser::types::{Field, Selection};
use async_graphql::registry::Registry;
use async_graphql::resolver_utils::resolve_container;
use async_graphql::{
    ContainerType, ContextSelectionSet, Name, OutputType, Positioned, ServerError, ServerResult, Value,
};

/// An object resolved field after field (see the module's documentation).
pub struct Serial<T>(pub T);

/// A list of objects, each resolved field after field.
pub struct SerialList<T>(pub Vec<T>);

impl<T> From<Vec<T>> for SerialList<T> {
    fn from(items: Vec<T>) -> Self {
        SerialList(items)
    }
}

impl<T> FromIterator<T> for SerialList<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        SerialList(iter.into_iter().collect())
    }
}

impl<T: ContainerType + OutputType> OutputType for Serial<T> {
    fn type_name() -> Cow<'static, str> {
        T::type_name()
    }

    fn qualified_type_name() -> String {
        T::qualified_type_name()
    }

    fn introspection_type_name(&self) -> Cow<'static, str> {
        self.0.introspection_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        T::create_type_info(registry)
    }

    async fn resolve(&self, ctx: &ContextSelectionSet<'_>, _field: &Positioned<Field>) -> ServerResult<Value> {
        resolve_object(ctx, &self.0).await
    }
}

impl<T: ContainerType + OutputType> OutputType for SerialList<T> {
    fn type_name() -> Cow<'static, str> {
        Vec::<T>::type_name()
    }

    fn qualified_type_name() -> String {
        Vec::<T>::qualified_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        Vec::<T>::create_type_info(registry)
    }

    async fn resolve(&self, ctx: &ContextSelectionSet<'_>, field: &Positioned<Field>) -> ServerResult<Value> {
        if !plain_schema(ctx) {
            return OutputType::resolve(&self.0, ctx, field).await;
        }
        let mut items = Vec::with_capacity(self.0.len());
        for (idx, item) in self.0.iter().enumerate() {
            let ctx_idx = ctx.with_index(idx);
            let value = resolve_object(&ctx_idx, item)
                .await
                .map_err(|e| ctx_idx.set_error_path(e))?;
            items.push(value);
        }
        Ok(Value::List(items))
    }
}

/// No custom directive could change a field's resolution (and no extension observes it: see
/// the module's documentation).
fn plain_schema(ctx: &ContextSelectionSet<'_>) -> bool {
    ctx.schema_env.custom_directives.is_empty()
}

/// One object: its selected fields in document order, as async-graphql would answer them.
async fn resolve_object<T: ContainerType + OutputType>(ctx: &ContextSelectionSet<'_>, root: &T) -> ServerResult<Value> {
    if !plain_schema(ctx) {
        return resolve_container(ctx, root).await;
    }
    let mut fields = IndexMap::with_capacity(ctx.item.node.items.len());
    collect(ctx, root, &mut fields).await?;
    Ok(if fields.is_empty() {
        Value::Null
    } else {
        Value::Object(fields)
    })
}

/// Adds the fields of `ctx`'s selection set to `fields`; fragments recurse (boxed: rare, and
/// a recursive future must be).
async fn collect<T: ContainerType + OutputType>(
    ctx: &ContextSelectionSet<'_>,
    root: &T,
    fields: &mut IndexMap<Name, Value>,
) -> ServerResult<()> {
    for selection in &ctx.item.node.items {
        let (condition, set) = match &selection.node {
            Selection::Field(field) => {
                let key = field.node.response_key().node.clone();
                if field.node.name.node == "__typename" {
                    insert(fields, key, Value::String(root.introspection_type_name().into_owned()));
                    continue;
                }
                let ctx_field = ctx.with_field(field);
                match root.resolve_field(&ctx_field).await {
                    Ok(value) => insert(fields, key, value.unwrap_or_default()),
                    Err(e) => ctx.add_error(e),
                }
                continue;
            }
            Selection::FragmentSpread(spread) => {
                let name = &spread.node.fragment_name.node;
                let Some(fragment) = ctx.query_env.fragments.get(name) else {
                    return Err(ServerError::new(
                        format!(r#"Unknown fragment "{name}"."#),
                        Some(spread.pos),
                    ));
                };
                (Some(&fragment.node.type_condition), &fragment.node.selection_set)
            }
            Selection::InlineFragment(fragment) => {
                (fragment.node.type_condition.as_ref(), &fragment.node.selection_set)
            }
        };
        let applies = match condition.map(|c| c.node.on.node.as_str()) {
            None => true,
            Some(on) => {
                let concrete = root.introspection_type_name();
                concrete == on
                    || T::type_name() == on
                    || ctx
                        .schema_env
                        .registry
                        .implements
                        .get(concrete.as_ref())
                        .is_some_and(|interfaces| interfaces.contains(on))
            }
        };
        if applies {
            let inner = ctx.with_selection_set(set);
            Box::pin(collect(&inner, root, fields)).await?;
        }
    }
    Ok(())
}

/// A response key seen twice (`a { x } a { y }`, or through a fragment) merges its objects,
/// as async-graphql's `insert_value` does.
fn insert(fields: &mut IndexMap<Name, Value>, key: Name, value: Value) {
    match fields.entry(key) {
        Entry::Vacant(slot) => {
            slot.insert(value);
        }
        Entry::Occupied(mut slot) => merge(slot.get_mut(), value),
    }
}

fn merge(target: &mut Value, value: Value) {
    match (target, value) {
        (Value::Object(target), Value::Object(object)) => {
            for (key, value) in object {
                insert(target, key, value);
            }
        }
        (Value::List(target), Value::List(list)) => {
            for (slot, value) in target.iter_mut().zip(list) {
                if matches!((&*slot, &value), (Value::Object(_), Value::Object(_))) {
                    merge(slot, value);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    //! The same data through async-graphql's own resolution and through the wrappers must
    //! answer byte for byte the same, errors and their paths included.

    use async_graphql::{ComplexObject, EmptyMutation, EmptySubscription, Object, Schema, SimpleObject};

    use super::{Serial, SerialList};

    const QUERIES: [&str; 8] = [
        "{ node { name leaves { a b } first { b a } none { a } empty { a } } }",
        "{ n: node { x: name leaves { y: a a } } }",
        "{ node { __typename leaves { __typename a } first { __typename } } }",
        "query { node { ...F leaves { ... on Leaf { a } ...L } } } fragment F on Node { name } fragment L on Leaf { b a }",
        "{ node { leaves { a } leaves { b } first { a } first { b a } name } }",
        "{ node { name @skip(if: true) leaves { a @include(if: false) b } first @include(if: true) { a } } }",
        "{ node { leaves { a broken b } name first { broken } } }",
        "{ node { ... { name } ... on Node { leaves { b } } } }",
    ];

    macro_rules! schema {
        ($module:ident, $list:ident, $one:ident, $wrap:expr) => {
            mod $module {
                #[allow(unused_imports)]
                use super::*;

                #[derive(SimpleObject)]
                #[graphql(name = "Leaf", complex)]
                pub struct Leaf {
                    pub a: String,
                    pub b: i32,
                }

                #[ComplexObject]
                impl Leaf {
                    async fn broken(&self) -> async_graphql::Result<String> {
                        Err(format!("leaf {} broke", self.b).into())
                    }
                }

                #[derive(SimpleObject)]
                #[graphql(name = "Node")]
                pub struct Node {
                    pub name: String,
                    pub leaves: $list<Leaf>,
                    pub first: Option<$one<Leaf>>,
                    pub none: Option<$one<Leaf>>,
                    pub empty: $list<Leaf>,
                }

                pub struct Query;

                #[Object]
                impl Query {
                    async fn node(&self) -> $one<Node> {
                        let leaf = |b: i32| Leaf {
                            a: format!("a{b}"),
                            b,
                        };
                        $wrap(Node {
                            name: "n".into(),
                            leaves: (1..=3).map(leaf).collect(),
                            first: Some($wrap(leaf(9))),
                            none: None,
                            empty: Vec::new().into(),
                        })
                    }
                }
            }
        };
    }

    type Plain<T> = T;
    fn plain<T>(t: T) -> T {
        t
    }
    schema!(theirs, Vec, Plain, plain);
    schema!(ours, SerialList, Serial, Serial);

    #[tokio::test]
    async fn the_wrappers_answer_exactly_what_async_graphql_answers() {
        let theirs = Schema::new(theirs::Query, EmptyMutation, EmptySubscription);
        let ours = Schema::new(ours::Query, EmptyMutation, EmptySubscription);
        assert_eq!(theirs.sdl(), ours.sdl(), "the schema does not see the wrappers");
        for query in QUERIES {
            let (a, b) = (theirs.execute(query).await, ours.execute(query).await);
            let (a, b) = (serde_json::to_string(&a), serde_json::to_string(&b));
            assert_eq!(a.ok(), b.ok(), "{query}");
        }
    }

    #[tokio::test]
    async fn fields_come_in_document_order_and_errors_keep_their_list_paths() {
        let ours = Schema::new(ours::Query, EmptyMutation, EmptySubscription);
        let response = ours.execute("{ node { leaves { b broken a } name } }").await;
        let json = serde_json::to_string(&response).unwrap_or_default();
        assert!(
            json.starts_with(r#"{"data":{"node":{"leaves":[{"b":1,"a":"a1"},"#),
            "{json}"
        );
        let paths: Vec<String> = response.errors.iter().map(|e| format!("{:?}", e.path)).collect();
        assert_eq!(paths.len(), 3, "{paths:?}");
        assert!(
            paths[0].contains("Index(0)") && paths[2].contains("Index(2)"),
            "{paths:?}"
        );
    }
}
