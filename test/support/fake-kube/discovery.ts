// Discovery documents in the legacy (unaggregated) form; clients that ask for aggregated
// discovery fall back to it when the response's Content-Type is plain application/json.
import { apiVersionOf, resourceTypes, type ResourceType } from './resources.js';

const verbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export const versionInfo = {
  major: '1',
  minor: '33',
  gitVersion: 'v1.33.0-fake',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2025-04-23T00:00:00Z',
  goVersion: 'go1.24.2',
  compiler: 'gc',
  platform: 'linux/amd64',
};

export function coreVersions(serverAddress: string) {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function groupNames(): string[] {
  return [...new Set(resourceTypes.filter((t) => t.group).map((t) => t.group))];
}

function group(name: string) {
  const version = { groupVersion: `${name}/v1`, version: 'v1' };
  return { name, versions: [version], preferredVersion: version };
}

export function groupList() {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: groupNames().map(group) };
}

export function apiGroup(name: string) {
  return groupNames().includes(name)
    ? { kind: 'APIGroup', apiVersion: 'v1', ...group(name) }
    : undefined;
}

export function resourceList(groupName: string, version: string) {
  const types = resourceTypes.filter((t) => t.group === groupName && t.version === version);
  if (types.length === 0) return undefined;
  const resources = types.flatMap((t) => [describe(t), ...(t.hasStatus ? [statusOf(t)] : [])]);
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: apiVersionOf(types[0]),
    resources,
  };
}

function describe(t: ResourceType) {
  return {
    name: t.name,
    singularName: t.singularName,
    namespaced: t.namespaced,
    kind: t.kind,
    verbs,
    ...(t.shortNames ? { shortNames: t.shortNames } : {}),
    ...(t.categories ? { categories: t.categories } : {}),
  };
}

function statusOf(t: ResourceType) {
  return {
    name: `${t.name}/status`,
    singularName: '',
    namespaced: t.namespaced,
    kind: t.kind,
    verbs: ['get', 'patch', 'update'],
  };
}
