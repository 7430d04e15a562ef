// The configuration files of a real node's agents: containerd (CRI, runc, CNI), the CNI bridge
// network, and the kubelet. Everything they write lives under the node's temporary folder.

export interface NodePaths {
  dir: string;
  socket: string;
  cniConfDir: string;
}

export const SANDBOX_IMAGE = 'localhost/pause:node-suite';

export function containerdConfig(p: NodePaths): string {
  return `version = 2
root = "${p.dir}/containerd/root"
state = "${p.dir}/containerd/state"
# Snapshotters this machine cannot use would only log errors at start.
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]

[grpc]
  address = "${p.socket}"

[ttrpc]
  address = "${p.socket}.ttrpc"

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "${p.dir}/containerd/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${SANDBOX_IMAGE}"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  # The kubelet asks for negative OOM scores (-998 for the pod sandbox); without CAP_SYS_RESOURCE
  # (this machine) runc cannot lower a score: keep them at containerd's own.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${p.cniConfDir}"
`;
}

/** A bridge with the host as gateway; no masquerade: pods talk to the host and each other only. */
export function cniConfig(o: {
  bridge: string;
  podCidr: string;
  gateway: string;
  serviceCidr: string;
  dir: string;
}) {
  return JSON.stringify(
    {
      cniVersion: '1.0.0',
      name: 'rollback-node',
      plugins: [
        {
          type: 'bridge',
          bridge: o.bridge,
          isGateway: true,
          ipMasq: false,
          hairpinMode: true,
          ipam: {
            type: 'host-local',
            ranges: [[{ subnet: o.podCidr, gateway: o.gateway }]],
            // Service addresses (kube-proxy DNATs them on the host); nothing else leaves the bridge.
            routes: [{ dst: o.serviceCidr }],
            dataDir: `${o.dir}/cni-ipam`,
          },
        },
      ],
    },
    null,
    2,
  );
}

export function kubeletConfig(o: {
  socket: string;
  cgroupRoot: string;
  address: string;
  port: number;
  healthzPort: number;
  podCidr: string;
  dir: string;
}): string {
  return JSON.stringify(
    {
      apiVersion: 'kubelet.config.k8s.io/v1beta1',
      kind: 'KubeletConfiguration',
      // This machine has cgroup v1 (with the unified hierarchy mounted beside it).
      failCgroupV1: false,
      cgroupDriver: 'cgroupfs',
      cgroupRoot: o.cgroupRoot,
      containerRuntimeEndpoint: `unix://${o.socket}`,
      address: o.address,
      port: o.port,
      readOnlyPort: 0,
      healthzBindAddress: '127.0.0.1',
      healthzPort: o.healthzPort,
      // Reached only from this host (the API server for logs); the suite owns the machine's node.
      authentication: { anonymous: { enabled: true }, webhook: { enabled: false } },
      authorization: { mode: 'AlwaysAllow' },
      failSwapOn: false,
      podCIDR: o.podCidr,
      maxPods: 40,
      clusterDomain: 'cluster.local',
      serializeImagePulls: false,
      // The images are imported, never pulled: nothing may garbage-collect them.
      imageGCHighThresholdPercent: 100,
      imageGCLowThresholdPercent: 99,
      // A shared test machine: evict nothing for its disk or memory use.
      evictionHard: {
        'memory.available': '1Mi',
        'nodefs.available': '1%',
        'imagefs.available': '1%',
      },
      volumePluginDir: `${o.dir}/volume-plugins`,
      podLogsDir: `${o.dir}/pod-logs`,
      // Quick status updates so Ready and deletions show up soon.
      nodeStatusUpdateFrequency: '2s',
      syncFrequency: '5s',
      shutdownGracePeriod: '0s',
    },
    null,
    2,
  );
}
