// Who may do what at the hub: the user roles, what each allows, and the one check every request goes through.

/** The roles a user credential (an API token, a page session) carries. Agents are not users: they have no role here. */
export const ROLES = ['viewer', 'experimenter', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/**
 * What a request needs. `read`: the page's data, the API's reads, the live feed. `experiment`: create and stop
 * experiments, upload pipeline templates. `admin`: manage credentials, read the audit log.
 */
export type Permission = 'read' | 'experiment' | 'admin';

/** The least role that holds each permission; each role holds every permission of the roles before it in ROLES. */
const LEAST_ROLE: Record<Permission, Role> = { read: 'viewer', experiment: 'experimenter', admin: 'admin' };

export function allows(role: Role, permission: Permission): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(LEAST_ROLE[permission]);
}

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** The highest of some roles (a user in several mapped groups gets the most their groups allow), or null for none. */
export function highestRole(roles: Iterable<Role>): Role | null {
  let best: Role | null = null;
  for (const role of roles) if (best === null || ROLES.indexOf(role) > ROLES.indexOf(best)) best = role;
  return best;
}
