// Drives Flowport's scaffolder API with Backstage's own ScaffolderClient (@backstage/plugin-scaffolder-common)
// and prints what it got as JSON.
// Usage: SCAFFOLDER_BASE_URL=http://127.0.0.1:PORT/api/scaffolder TOKEN=fpt_... USER_REF=user:default/x node ...
import { ScaffolderClient } from '@backstage/plugin-scaffolder-common';

// The client's event-stream library (@microsoft/fetch-event-source) was written for browsers: when a stream
// ends it calls window.clearTimeout and document.removeEventListener. In Node the global object plays the
// window, and a page that never changes visibility plays the document.
globalThis.window ??= globalThis;
globalThis.document ??= { hidden: false, addEventListener() {}, removeEventListener() {} };

const baseUrl = process.env.SCAFFOLDER_BASE_URL;
const token = process.env.TOKEN;
const userRef = process.env.USER_REF;
const options = {
  discoveryApi: { getBaseUrl: async () => baseUrl },
  // What Backstage's FetchApi does for a signed-in user: every call carries the user's token.
  fetchApi: { fetch: (url, init = {}) => fetch(url, { ...init, headers: { ...init.headers, Authorization: `Bearer ${token}` } }) },
  identityApi: { getBackstageIdentity: async () => ({ type: 'user', userEntityRef: userRef, ownershipEntityRefs: [userRef] }) },
};
const client = new ScaffolderClient(options);
const polling = new ScaffolderClient({ ...options, useLongPollingLogs: true });
const out = {};

const collect = (source, request) => new Promise((resolve, reject) => {
  const events = [];
  const subscription = source.streamLogs(request).subscribe({
    next: event => events.push(event),
    error: reject,
    complete: () => { subscription?.unsubscribe?.(); resolve(events); },
  });
});
const summary = events => events.map(e => ({ id: e.id, type: e.type, message: e.body.message, status: e.body.status ?? null }));
const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));
const caught = async work => {
  try { await work(); return null; } catch (error) { return { name: error.name, message: String(error.message), causeName: error.body?.error?.name ?? null }; }
};

out.listActions = (await client.listActions()).map(a => a.id);
out.debugWaitInput = Object.keys((await client.listActions()).find(a => a.id === 'debug:wait').schema.input.properties);

const extensions = await client.listTemplatingExtensions();
out.templatingExtensions = { filters: Object.keys(extensions.filters).sort(), globals: extensions.globals };

const schema = await client.getTemplateParameterSchema('template:default/greeter');
out.parameterSchema = { title: schema.title, steps: schema.steps.map(s => s.title), required: schema.steps[0].schema.required };
out.parameterSchemaMissing = await caught(() => client.getTemplateParameterSchema('template:default/missing'));

const { taskId } = await client.scaffold({ templateRef: 'template:default/greeter', values: { name: 'returns' }, secrets: { token: 'client-secret-123' } });
out.scaffoldTaskId = taskId;
out.streamed = summary(await collect(client, { taskId }));
const task = await client.getTask(taskId);
out.getTask = { id: task.id, status: task.status, createdBy: task.createdBy, parameters: task.spec.parameters, templateRef: task.spec.templateInfo.entityRef, hasHeartbeat: Boolean(task.lastHeartbeatAt) };
out.polled = summary(await collect(polling, { taskId }));
out.streamedAfter = summary(await collect(client, { taskId, after: out.streamed[out.streamed.length - 3].id }));
out.scaffoldInvalid = await caught(() => client.scaffold({ templateRef: 'template:default/greeter', values: { name: 'Not A Name!' } }));

const listed = await client.listTasks({ filterByOwnership: 'owned', limit: 10 });
out.listTasks = { total: listed.totalTasks, ids: listed.tasks.map(t => t.id) };

// Cancel a run while debug:wait is waiting.
const { taskId: waitingId } = await client.scaffold({ templateRef: 'template:default/waiter', values: {} });
out.waitingTaskId = waitingId;
for (let tries = 0; tries < 400 && (await client.getTask(waitingId)).status !== 'processing'; tries += 1) await sleep(50);
out.cancelTask = await client.cancelTask(waitingId);
out.cancelledStream = summary(await collect(client, { taskId: waitingId }));
out.cancelledStatus = (await client.getTask(waitingId)).status;

// Retry: the cancelled run goes back to open and runs again; cancel it again to end it.
out.retry = await client.retry(waitingId);
for (let tries = 0; tries < 400 && (await client.getTask(waitingId)).status !== 'processing'; tries += 1) await sleep(50);
out.retriedStatus = (await client.getTask(waitingId)).status;
await client.cancelTask(waitingId);
const lastBeforeEnd = out.cancelledStream[out.cancelledStream.length - 1].id;
out.retriedStream = summary(await collect(client, { taskId: waitingId, after: lastBeforeEnd }));

const dryRun = await client.dryRun({
  template: {
    apiVersion: 'scaffolder.backstage.io/v1beta3', kind: 'Template', metadata: { name: 'dry' },
    spec: { owner: 'group:team-a', type: 'service', parameters: [{ type: 'object', properties: { name: { type: 'string' } } }],
            steps: [{ id: 'write', action: 'catalog:write', input: { entity: { apiVersion: 'backstage.io/v1alpha1', kind: 'Component', metadata: { name: '${{ parameters.name }}' } } } }],
            output: { text: [{ title: 'Name', content: '${{ parameters.name }}' }] } },
  },
  values: { name: 'dry-one' }, secrets: {}, directoryContents: [],
});
out.dryRun = { files: dryRun.directoryContents.map(f => f.path), output: dryRun.output, steps: dryRun.steps.map(s => s.id), log: dryRun.log.map(l => l.body.message) };

console.log(JSON.stringify(out));
