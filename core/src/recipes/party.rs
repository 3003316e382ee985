//! Group membership: every member is an ephemeral child, so a member whose
//! session ends leaves by itself. [`Party`] keeps identifiers in node data
//! (kazoo `Party`); [`ShallowParty`] in node names (one listing, no reads).

use super::{children, data_of, join, retrying, unique, Held, OPEN};
use crate::client::Client;
use crate::types::CreateMode;
use crate::Error;

pub struct Party {
    client: Client,
    path: String,
    identifier: Vec<u8>,
    node: String,
    joined: Held,
}

impl Party {
    pub fn new(client: &Client, path: &str, identifier: &[u8]) -> Party {
        Party {
            client: client.clone(),
            path: path.to_string(),
            identifier: identifier.to_vec(),
            node: join(path, &format!("{}__party__", unique())),
            joined: Held::default(),
        }
    }

    pub async fn join(&self) -> Result<(), Error> {
        enter(&self.client, &self.path, &self.node, &self.identifier).await?;
        self.joined.set(&self.client, self.node.clone(), true);
        Ok(())
    }

    pub async fn leave(&self) -> Result<bool, Error> {
        self.joined.take();
        exit(&self.client, &self.node).await
    }

    /// The path of our member node (kazoo's `create_path`).
    pub fn node_path(&self) -> &str {
        &self.node
    }

    /// True after `join` while the session that joined lives.
    pub fn is_member(&self) -> bool {
        self.joined.is_held(&self.client)
    }

    /// Identifiers of the current members.
    pub async fn members(&self) -> Result<Vec<Vec<u8>>, Error> {
        let names = children(&self.client, &self.path).await?;
        data_of(&self.client, &self.path, &names).await
    }

    pub async fn len(&self) -> Result<usize, Error> {
        Ok(children(&self.client, &self.path).await?.len())
    }

    pub async fn is_empty(&self) -> Result<bool, Error> {
        Ok(self.len().await? == 0)
    }
}

/// Members as `<uuid>-<identifier>` names (kazoo's): `members` is one
/// listing.
pub struct ShallowParty {
    client: Client,
    path: String,
    node: String,
    joined: Held,
}

impl ShallowParty {
    /// `identifier` must be a valid znode name part (no '/').
    pub fn new(client: &Client, path: &str, identifier: &str) -> ShallowParty {
        ShallowParty {
            client: client.clone(),
            path: path.to_string(),
            node: join(path, &format!("{}-{identifier}", unique())),
            joined: Held::default(),
        }
    }

    pub async fn join(&self) -> Result<(), Error> {
        enter(&self.client, &self.path, &self.node, b"").await?;
        self.joined.set(&self.client, self.node.clone(), true);
        Ok(())
    }

    pub async fn leave(&self) -> Result<bool, Error> {
        self.joined.take();
        exit(&self.client, &self.node).await
    }

    /// The path of our member node (kazoo's `create_path`).
    pub fn node_path(&self) -> &str {
        &self.node
    }

    pub fn is_member(&self) -> bool {
        self.joined.is_held(&self.client)
    }

    pub async fn members(&self) -> Result<Vec<String>, Error> {
        Ok(member_ids(children(&self.client, &self.path).await?))
    }

    pub async fn len(&self) -> Result<usize, Error> {
        Ok(children(&self.client, &self.path).await?.len())
    }

    pub async fn is_empty(&self) -> Result<bool, Error> {
        Ok(self.len().await? == 0)
    }
}

/// The identifiers in ShallowParty's `<uuid>-<identifier>` names (the
/// uuid has no '-'; the identifier may).
pub(super) fn member_ids(names: Vec<String>) -> Vec<String> {
    names
        .into_iter()
        .filter_map(|n| n.split_once('-').map(|(_, id)| id.to_string()))
        .collect()
}

async fn enter(c: &Client, path: &str, node: &str, data: &[u8]) -> Result<(), Error> {
    retrying(c, || c.ensure_path(path, &OPEN)).await?;
    match retrying(c, || c.create(node, data, &OPEN, CreateMode::Ephemeral)).await {
        Ok(_) | Err(Error::NodeExists) => Ok(()),
        Err(e) => Err(e),
    }
}

async fn exit(c: &Client, node: &str) -> Result<bool, Error> {
    match retrying(c, || c.delete(node, -1)).await {
        Ok(()) => Ok(true),
        Err(Error::NoNode) => Ok(false),
        Err(e) => Err(e),
    }
}
