//! `ServiceRegistry` over `zkrs::recipes::ServiceRegistry`: Promise calls
//! and a watch whose callback gets the live instances.

use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::{Buffer, Either};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Status;
use napi_derive::napi;
use zkrs::recipes::{self, Instance};

use crate::client::Client;
use crate::error::ZkResult;
use crate::recipes::Running;
use crate::runtime::on_core;
use crate::types::data_bytes;

/// One live instance of a service.
#[napi(object, object_from_js = false)]
pub struct ServiceInstance {
    pub id: String,
    pub payload: Buffer,
}

fn instances(now: Vec<Instance>) -> Vec<ServiceInstance> {
    now.into_iter()
        .map(|i| ServiceInstance {
            id: i.id,
            payload: i.payload.into(),
        })
        .collect()
}

type InstancesCallback =
    ThreadsafeFunction<Vec<ServiceInstance>, (), Vec<ServiceInstance>, Status, false>;

/// Instances of services as ephemeral nodes `<root>/<service>/<id>` with a
/// payload: an instance whose session ends drops out; after an expiry a
/// renewed session registers this registry's instances again.
#[napi]
pub struct ServiceRegistry {
    inner: Arc<recipes::ServiceRegistry>,
}

#[napi]
impl ServiceRegistry {
    /// `root` defaults to "/services".
    #[napi(constructor)]
    pub fn new(client: &Client, root: Option<String>) -> napi::Result<Self> {
        let c = client.connected()?;
        let root = root.unwrap_or_else(|| "/services".into());
        Ok(ServiceRegistry {
            inner: Arc::new(recipes::ServiceRegistry::new(&c, &root)),
        })
    }

    /// Registers instance `id` of `service`, or updates the payload of
    /// one this session registered; NODEEXISTS if another session holds
    /// the id.
    #[napi(ts_return_type = "Promise<void>")]
    pub async fn register(
        &self,
        service: String,
        id: String,
        payload: Option<Either<Buffer, String>>,
    ) -> ZkResult<()> {
        let r = self.inner.clone();
        let bytes = data_bytes(payload);
        on_core(async move { r.register(&service, &id, &bytes).await }).await
    }

    /// Removes an instance this session registered; false if none.
    #[napi(ts_return_type = "Promise<boolean>")]
    pub async fn unregister(&self, service: String, id: String) -> ZkResult<bool> {
        let r = self.inner.clone();
        on_core(async move { r.unregister(&service, &id).await }).await
    }

    /// The live instances of `service`, by id.
    #[napi(ts_return_type = "Promise<Array<ServiceInstance>>")]
    pub async fn instances(&self, service: String) -> ZkResult<Vec<ServiceInstance>> {
        let r = self.inner.clone();
        on_core(async move { r.instances(&service).await })
            .await
            .map(instances)
    }

    /// Calls back with the live instances now and after every change,
    /// until `stop()` or the session ends.
    #[napi(ts_args_type = "service: string, callback: (instances: Array<ServiceInstance>) => void")]
    pub fn watch(
        &self,
        service: String,
        callback: InstancesCallback,
    ) -> napi::Result<ServiceWatch> {
        let _rt = zkrs::runtime::get().enter();
        let handle = self
            .inner
            .watch(&service, move |now| {
                callback.call(instances(now), ThreadsafeFunctionCallMode::NonBlocking);
                true
            })
            .map_err(|e| {
                napi::Error::from_reason(format!("{}: {e}", crate::error::code_name(&e)))
            })?;
        Ok(ServiceWatch {
            running: Running(Mutex::new(Some(handle))),
        })
    }
}

/// A running `ServiceRegistry.watch`.
#[napi]
pub struct ServiceWatch {
    running: Running,
}

#[napi]
impl ServiceWatch {
    #[napi]
    pub fn stop(&self) {
        self.running.stop();
    }

    /// False once stopped or the session ended.
    #[napi(getter)]
    pub fn running(&self) -> bool {
        self.running.is_running()
    }
}
