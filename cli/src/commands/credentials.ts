import { readFile } from 'node:fs/promises';
import { Api } from '../api';
import { parseAssignments, resolveAssignments } from '../assignments';
import { mapToEnv, fieldValue, lastSegment, secretFields } from '../env-names';
import { CliError } from '../errors';
import { out, readStdin, shellQuote } from '../io';
import {
  CredentialSummary,
  findByPath,
  listCredentials,
  requireByPath,
  revealByPath,
  revealVersion,
  Revealed,
} from '../vault';

export interface GetOptions {
  field?: string;
  version?: number;
  format: 'json' | 'env' | 'raw';
  reason?: string;
}

/** `custos get PATH`: the only command that prints a secret, and only the one asked for. */
export async function get(api: Api, path: string, options: GetOptions): Promise<void> {
  const revealed: Revealed =
    options.version !== undefined || options.reason !== undefined
      ? await revealVersion(api, path, { version: options.version, reason: options.reason })
      : await revealByPath(api, path);
  const fields = secretFields(revealed.secret);
  if (options.field !== undefined) {
    if (!fields.includes(options.field)) {
      throw new CliError(`${path} has no field "${options.field}" (it has ${fields.join(', ')})`);
    }
    out(fieldValue(revealed.secret, options.field));
    return;
  }
  switch (options.format) {
    case 'json':
      out(JSON.stringify(revealed.secret, null, 2));
      return;
    case 'raw':
      if (fields.length !== 1) {
        throw new CliError(`${path} has the fields ${fields.join(', ')}: choose one with --field`);
      }
      out(fieldValue(revealed.secret, fields[0]));
      return;
    case 'env':
      for (const variable of mapToEnv([revealed])) {
        out(`${variable.name}=${shellQuote(variable.value)}`);
      }
      return;
  }
}

export interface PutOptions {
  type?: string;
  username?: string;
  description?: string;
  allowArgvSecrets?: boolean;
}

/**
 * `custos put PATH field=@file|field=-…`: a new credential (named after the path's last
 * segment) if none is at PATH, else a new version of its secret, checked with If-Match against
 * the version read just before so that a concurrent change is not overwritten.
 */
export async function put(
  api: Api,
  path: string,
  assignments: string[],
  options: PutOptions,
): Promise<void> {
  const sources = parseAssignments(assignments, options.allowArgvSecrets === true);
  const existing = await findByPath(api, path);
  if (!existing && !options.type) {
    throw new CliError(`${path} does not exist yet: give its --type (password, api_key, …)`, 2);
  }
  if (existing && options.type && options.type !== existing.type) {
    throw new CliError(`${path} is a ${existing.type}, not a ${options.type}`);
  }
  const secret = await resolveAssignments(sources, {
    readFile: (file) => readFile(file, 'utf8'),
    readStdin,
  });
  let stored: CredentialSummary;
  if (existing) {
    stored = await api.request<CredentialSummary>('PUT', `/credentials/${existing.id}/secret`, {
      body: { secret },
      headers: { 'if-match': String(existing.currentVersion) },
    });
  } else {
    stored = await api.request<CredentialSummary>('POST', '/credentials', {
      body: {
        path,
        name: lastSegment(path),
        type: options.type,
        secret,
        username: options.username,
        description: options.description,
      },
    });
  }
  out(`${stored.path}: version ${stored.currentVersion}${existing ? '' : ' (created)'}`);
}

/** `custos ls [PREFIX]`: path, type and current version; never a value. */
export async function ls(api: Api, prefix: string | undefined, json: boolean): Promise<void> {
  const credentials = await listCredentials(api, prefix);
  if (json) {
    out(
      JSON.stringify(
        credentials.map(({ id, path, type, currentVersion }) => ({
          id,
          path,
          type,
          currentVersion,
        })),
        null,
        2,
      ),
    );
    return;
  }
  for (const credential of credentials) {
    out(`${credential.path}\t${credential.type}\tv${credential.currentVersion}`);
  }
}

interface RotateAnswer {
  runId: string;
  status: string;
  opened?: boolean;
}

interface RunStatus {
  status: 'running' | 'waiting' | 'succeeded' | 'failed';
  pendingVersion?: number | null;
}

export interface RotateOptions {
  emergency?: boolean;
  reason?: string;
  wait?: boolean;
  timeout: number;
}

/** `custos rotate PATH`: opens a run (an emergency one with --emergency), optionally waits. */
export async function rotate(api: Api, path: string, options: RotateOptions): Promise<void> {
  const credential = await requireByPath(api, path);
  const answer = await api.request<RotateAnswer>('POST', `/credentials/${credential.id}/rotate`, {
    body: { emergency: options.emergency === true, reason: options.reason },
  });
  if (!options.wait) {
    out(`${path}: rotation ${answer.runId} ${answer.status}`);
    return;
  }
  const deadline = Date.now() + options.timeout * 1000;
  for (;;) {
    const run = await api.request<RunStatus>('GET', `/rotations/${answer.runId}`);
    if (run.status === 'succeeded') {
      out(`${path}: rotation ${answer.runId} succeeded, version ${run.pendingVersion ?? '?'}`);
      return;
    }
    if (run.status === 'failed') throw new CliError(`rotation ${answer.runId} failed`);
    if (run.status === 'waiting') {
      // A manual run: it waits for the new value (custos put).
      out(`${path}: rotation ${answer.runId} waiting for a new value (custos put ${path} …)`);
      return;
    }
    if (Date.now() > deadline) {
      throw new CliError(`rotation ${answer.runId} still ${run.status} after ${options.timeout} s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
