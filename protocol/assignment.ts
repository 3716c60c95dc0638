// Protocol v2's experiment messages: the hub's assignment and withdrawal, the agent's status, the hello's experiment part.
import { z } from 'zod';

/** An experiment's id at the hub (also a report's tag). */
export const experimentIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, { error: 'experimentId: 1-64 of A-Z a-z 0-9 _ . -' });
/** Each change of an experiment's assignment (e.g. its end time moved) is a new revision. */
export const revisionSchema = z.number().int().min(1).max(1_000_000_000);
/** A pushed template's size bound: the built-in ones are 2-4 KiB. Two of them fit a message with room to spare. */
export const MAX_TEMPLATE_BYTES = 256 * 1024;

const isoTime = z.iso.datetime({ offset: true });
/** Within MAX_TEMPLATE_BYTES as UTF-8 (a UTF-16 unit is at most 3 bytes); no Node Buffer: the page's check reads this too. */
const fitsTemplateBytes = (text: string) => text.length * 3 <= MAX_TEMPLATE_BYTES || new TextEncoder().encode(text).length <= MAX_TEMPLATE_BYTES;

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, { error: 'sha256: 64 lowercase hex digits' });

export const variantAssignmentSchema = z.object({
  name: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, { error: 'name: a lowercase name of 1-32 letters, digits and dashes' }),
  /** The pipeline template, with the agent's {{placeholders}} (the agent renders it with its own ports). */
  template: z.string().min(1).refine(fitsTemplateBytes, { error: `template: at most 256 KiB (${MAX_TEMPLATE_BYTES} bytes)` }),
  /** sha256 of `template` (UTF-8): the agent checks it, and reports run under it. */
  sha256,
  parameters: z.object({
    cpuThreshold: z.number().gt(0).max(64),
    memoryThresholdBytes: z.number().int().min(1).max(2 ** 50),
  }),
});

export const assignmentSchema = z.object({
  experimentId: experimentIdSchema,
  revision: revisionSchema,
  /** When the agent goes back to its own pair by itself, hub or no hub; null: when withdrawn. */
  endsAt: isoTime.nullable(),
  /** Shared by both variants, so the comparison is fair. */
  parameters: z.object({
    collectionIntervalMs: z.number().int().min(1000).max(3_600_000),
    metricExpirationMs: z.number().int().min(1000).max(86_400_000),
  }),
  /** Anchored patterns (the agent checks each as it checks its own config's). */
  critical: z.object({ patterns: z.array(z.string().min(1).max(256)).min(1).max(500) }),
  variants: z.tuple([variantAssignmentSchema, variantAssignmentSchema]),
});

/** What an agent says of an assignment. `reverted`: back on its own pair (withdrawn, ended, or after a failure). */
export const ASSIGNMENT_STATES = ['applying', 'applied', 'failed', 'refused', 'reverted'] as const;
export const assignmentStateSchema = z.enum(ASSIGNMENT_STATES);

export const assignmentStatusSchema = z.object({
  experimentId: experimentIdSchema,
  revision: revisionSchema,
  state: assignmentStateSchema,
  /** Why it failed or was refused (the collector's own message, the policy rule), or why it reverted. */
  message: z.string().max(2048).nullable(),
  at: isoTime,
});

/** The hello's experiment part (v2): whether the agent takes assignments, and the one it runs or last answered. */
export const helloExperimentsSchema = z.object({
  accepts: z.boolean(),
  /** Why it does not (config, schedule), when it does not. */
  reason: z.string().max(512).nullable(),
  current: assignmentStatusSchema.nullable(),
});

/** The tag a report made under an assignment carries. */
export const reportExperimentSchema = z.object({ id: experimentIdSchema, revision: revisionSchema });

export type VariantAssignment = z.infer<typeof variantAssignmentSchema>;
export type Assignment = z.infer<typeof assignmentSchema>;
export type AssignmentState = z.infer<typeof assignmentStateSchema>;
export type AssignmentStatus = z.infer<typeof assignmentStatusSchema>;
export type HelloExperiments = z.infer<typeof helloExperimentsSchema>;
