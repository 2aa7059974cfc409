//! Deleting what `deploy` made. No policy gate: the policy ABI (v1) has no delete operation, and
//! delete only removes objects carrying this tool's labels, keeping the data unless asked.

use super::OperationError;
use crate::cluster::{Cluster, DeleteOptions, DeleteReport, KubeconfigSelection, Progress};

/// What to delete, and where.
#[derive(Debug, Clone)]
pub struct DeleteRequest {
    pub cluster: KubeconfigSelection,
    pub options: DeleteOptions,
}

/// Connects and removes what `deploy` made in the namespace, reporting each object.
pub fn delete(
    request: &DeleteRequest,
    progress: &mut dyn FnMut(Progress),
) -> Result<DeleteReport, OperationError> {
    let cluster = Cluster::connect(&request.cluster)?;
    Ok(cluster.delete(&request.options, progress)?)
}
