//! Relay connections: one generic shape (edges, nodes, pageInfo, totalCount) for every list
//! that pages, named per item type.

use async_graphql::{Object, SimpleObject};

use super::city::City;
use super::revision::Revision;
use crate::domain::{Page, encode_cursor};

/// Relay page information.
#[derive(SimpleObject, Debug, Clone)]
pub struct PageInfo {
    /// Whether items follow this page.
    pub has_next_page: bool,
    /// Whether items precede this page.
    pub has_previous_page: bool,
    /// Cursor of the first item of this page.
    pub start_cursor: Option<String>,
    /// Cursor of the last item of this page; pass it as `after` for the next page.
    pub end_cursor: Option<String>,
}

/// Declares a Relay connection type and its edge type for one item type. A macro rather than a
/// generic: async-graphql names generic objects only where each is concrete, and a generic
/// connection holding a generic edge cannot be made concrete.
macro_rules! connection {
    ($connection:ident, $edge:ident, $item:ty, $what:literal) => {
        #[doc = concat!("A ", $what, " and its cursor.")]
        #[derive(SimpleObject)]
        pub struct $edge {
            #[doc = concat!("The ", $what, ".")]
            pub node: $item,
            /// Where the item stands in the list; pass it as `after` to continue after it.
            pub cursor: String,
        }

        #[doc = concat!("A page of ", $what, "s (Relay connection).")]
        pub struct $connection {
            nodes: Vec<$item>,
            offset: u64,
            page_info: PageInfo,
            total_count: u64,
        }

        #[doc = concat!("A page of ", $what, "s (Relay connection).")]
        #[Object]
        impl $connection {
            /// The items of this page with their cursors.
            async fn edges(&self) -> Vec<$edge> {
                // Built only when asked for: dashboards mostly read `nodes`.
                (self.offset..)
                    .zip(&self.nodes)
                    .map(|(at, node)| $edge {
                        node: node.clone(),
                        cursor: encode_cursor(at),
                    })
                    .collect()
            }

            /// The items of this page.
            async fn nodes(&self) -> &[$item] {
                &self.nodes
            }

            /// Where this page stands.
            async fn page_info(&self) -> &PageInfo {
                &self.page_info
            }

            /// Items in the whole filtered list, over all pages.
            async fn total_count(&self) -> u64 {
                self.total_count
            }
        }

        impl $connection {
            /// The connection of `page`, each model wrapped by `wrap`.
            pub fn from_page<M>(page: Page<M>, wrap: impl FnMut(M) -> $item) -> Self {
                let page_info = page_info(&page);
                let (total_count, offset) = (page.total, page.offset);
                let nodes = page.items.into_iter().map(wrap).collect();
                Self {
                    nodes,
                    offset,
                    page_info,
                    total_count,
                }
            }
        }
    };
}

connection!(CityConnection, CityEdge, City, "city");
connection!(RevisionConnection, RevisionEdge, Revision, "revision");

fn page_info<M>(page: &Page<M>) -> PageInfo {
    let has_items = !page.items.is_empty();
    let end = page.offset + page.items.len() as u64;
    PageInfo {
        has_next_page: page.has_next_page(),
        has_previous_page: page.offset > 0,
        start_cursor: has_items.then(|| encode_cursor(page.offset)),
        end_cursor: has_items.then(|| encode_cursor(end.saturating_sub(1))),
    }
}
