export function credentialEverywhere(o: { sys: unknown; loadHostDir: unknown; version: unknown; roots: string[] }): Promise<string>;
