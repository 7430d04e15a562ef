// The one source of configuration types. Every default lives here so `check-config`, the
// server and the chart's values all agree.
import { z } from 'zod';
import { namespaceGlobSchema } from './namespace-glob.js';

export const confidenceSchema = z.enum(['low', 'medium', 'high']);
export type Confidence = z.infer<typeof confidenceSchema>;

export const workloadKindSchema = z.enum(['Deployment', 'StatefulSet', 'DaemonSet', 'Rollout']);
export type WorkloadKind = z.infer<typeof workloadKindSchema>;

/** Label template: literal text with `{{ labels.NAME }}` parts; `||` picks the first non-empty. */
const template = z.string().min(1).max(253);

export const targetTemplateSchema = z.strictObject({
  // A `rollout` label names an Argo Rollouts Rollout (contract.md "Argo Rollouts"); `kind` still wins.
  kind: template.default('{{ labels.kind || labels.rollout && "Rollout" || "Deployment" }}'),
  namespace: template.default('{{ labels.namespace }}'),
  name: template.default('{{ labels.rollout || labels.deployment || labels.service }}'),
});

export const scriptActionSchema = z.strictObject({
  path: z.string().min(1),
  args: z.array(z.string()).default([]),
  timeoutSeconds: z.number().positive().max(3600).default(300),
});

export const ruleSchema = z
  .strictObject({
    name: z.string().min(1).optional(),
    alert: z.string().min(1),
    matchers: z.array(z.string().min(1)).default([]),
    trigger: z
      .string()
      .regex(/^[a-z][a-z0-9_]{0,62}$/, 'trigger must be snake_case (a metric label)'),
    confidence: confidenceSchema,
    autoRollback: z.boolean().default(true),
    target: targetTemplateSchema.optional(),
    script: scriptActionSchema.optional(),
    slackChannel: z.string().min(1).optional(),
  })
  .refine((r) => !(r.target && r.script), {
    message: 'a rule has either target or script, not both',
  });

const ownerModeSchema = z.enum(['suspend', 'skip'], {
  error: 'must be suspend (turn the owner off so the rollback sticks) or skip (leave it to Git)',
});

export const policySchema = z.strictObject({
  /** Lowest confidence that rolls back without a human. */
  autoRollbackConfidence: confidenceSchema.default('high'),
  /** Lowest confidence that creates a job held for approval; anything lower only notifies. */
  approvalConfidence: confidenceSchema.default('medium'),
  approvalTtlSeconds: z.number().positive().default(3600),
  cooldownSeconds: z.number().nonnegative().default(1800),
  circuitBreaker: z
    .strictObject({
      maxRollbacks: z.number().int().positive().default(3),
      windowSeconds: z.number().positive().default(600),
    })
    .prefault({}),
  allowedNamespaces: z.array(namespaceGlobSchema).default(['*']),
  deniedNamespaces: z
    .array(namespaceGlobSchema)
    .default(['kube-system', 'kube-public', 'kube-node-lease']),
  optOutAnnotation: z.string().min(1).default('rollback-controller.io/disabled'),
  /** Workloads managed by Argo CD or Flux: suspend the owner so the rollback sticks, or skip. */
  owners: z
    .strictObject({
      argocd: ownerModeSchema.default('suspend'),
      flux: ownerModeSchema.default('suspend'),
      /** Where Argo CD Applications live (the instance label is looked up there). */
      argocdNamespaces: z
        .array(
          z
            .string()
            .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a namespace name (DNS label)'),
        )
        .min(1)
        .default(['argocd']),
      /** How often suspended owners are checked for a human turning them back on. */
      resumeCheckSeconds: z.number().positive().max(3600).default(30),
    })
    .prefault({}),
  /**
   * Only blame a recent change: a revision current for longer than this when the alert started is
   * not rolled back. 0 = no limit.
   */
  maxRevisionAgeSeconds: z.number().int().nonnegative().default(86_400),
  /**
   * StatefulSet forced rollback (OrderedReady): after the rollback patch, delete pods still on
   * the bad revision that are not ready, so the controller recreates them from the good one.
   */
  deleteStuckPods: z.boolean().default(false),
});

/** Prometheus label names; `__` names are reserved for Prometheus itself. */
const LABEL_NAME = /^(?!__)[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Which cluster this controller serves. Free text as alert labels are, but one printable word:
 * a stray space or an empty value would silently never match the alerts' label.
 */
export const clusterNameSchema = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[^\s\p{C}]+$/u, 'must be one word without spaces or control characters');

export const clusterSchema = z.strictObject({
  /** ROLLBACK_CLUSTER_NAME, when set, wins over this (see src/config/cluster-identity.ts). */
  name: clusterNameSchema.optional(),
  /** The alert label that names the cluster an alert is about. */
  label: z
    .string()
    .regex(LABEL_NAME, 'must be a Prometheus label name (letters, digits, _; not starting __)')
    .default('cluster'),
  /** Refuse alerts that carry no cluster label at all (otherwise they are taken as ours). */
  requireLabel: z.boolean().default(false),
});

export const configSchema = z.strictObject({
  rules: z.array(ruleSchema).optional(),
  cluster: clusterSchema.prefault({}),
  policy: policySchema.prefault({}),
  queue: z
    .strictObject({
      concurrency: z.number().int().positive().max(16).default(1),
      maxPending: z.number().int().positive().default(1000),
    })
    .prefault({}),
  rollout: z
    .strictObject({
      deadlineSeconds: z.number().positive().default(600),
      pollIntervalSeconds: z.number().positive().default(2),
    })
    .prefault({}),
  verification: z.strictObject({ windowSeconds: z.number().positive().default(900) }).prefault({}),
  /**
   * Plan rollbacks from a watch cache of the workloads and their history in the allowed
   * namespaces (where list and watch are allowed); off: every read goes to the API server.
   */
  watchCache: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** More objects than this in the allowed namespaces turn the cache off (its memory bound). */
      maxObjects: z.number().int().positive().default(3000),
    })
    .prefault({}),
  /** Access reviews of what the enabled features need: at start-up, then this often. */
  permissions: z
    .strictObject({ checkIntervalSeconds: z.number().positive().default(300) })
    .prefault({}),
  http: z
    .strictObject({
      bodyLimitBytes: z
        .number()
        .int()
        .positive()
        .default(1024 * 1024),
    })
    .prefault({}),
  slack: z
    .strictObject({
      channel: z.string().optional(),
      username: z.string().default('Rollback Controller'),
      iconEmoji: z.string().optional(),
      /** Progress at most this often per job (webhook mode: one progress post per job at most). */
      progressIntervalSeconds: z.number().positive().default(60),
      /**
       * Slack user ids (U…, W…) and user-group ids (S…) who may approve, deny and resume from
       * Slack. Empty: nobody can (buttons answer with a refusal saying how to allow someone).
       */
      approvers: z
        .array(
          z
            .string()
            .regex(/^[UWS][A-Z0-9]{2,20}$/, 'a Slack user id (U…, W…) or user-group id (S…)'),
        )
        .default([]),
      retries: z.number().int().nonnegative().max(10).default(3),
      timeoutSeconds: z.number().positive().default(5),
      /** Per-namespace channel override (the webhook must allow it). */
      namespaceChannels: z.record(z.string(), z.string()).default({}),
    })
    .prefault({}),
  journal: z
    .strictObject({
      dedupRetentionHours: z.number().positive().default(168),
      maxJobs: z.number().int().positive().default(5000),
      /**
       * Compact once the journal is this large (or twice the last snapshot, if that is larger).
       * Sized with the chart's memory limit: README "Journal and restart memory".
       */
      compactAboveMiB: z.number().positive().max(4096).default(32),
    })
    .prefault({}),
  scriptsDir: z.string().default('rollback-scripts'),
});

export type ConfigInput = z.input<typeof configSchema>;
export type RawConfig = z.output<typeof configSchema>;
export type Rule = z.output<typeof ruleSchema>;
export type Policy = z.output<typeof policySchema>;
export type ClusterConfig = z.output<typeof clusterSchema>;
export type TargetTemplate = z.output<typeof targetTemplateSchema>;
export type ScriptAction = z.output<typeof scriptActionSchema>;
/** Config after defaults: rules always present. */
export type Config = Omit<RawConfig, 'rules'> & { rules: Rule[] };
