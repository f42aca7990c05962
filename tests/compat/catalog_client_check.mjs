// Drives Flowport's catalog API with Backstage's own @backstage/catalog-client and prints what it got as JSON.
// Usage: CATALOG_BASE_URL=http://127.0.0.1:PORT/api/catalog LOCATION_FILE=/abs/catalog-info.yaml node catalog_client_check.mjs
import { CatalogClient } from '@backstage/catalog-client';

const baseUrl = process.env.CATALOG_BASE_URL;
const locationFile = process.env.LOCATION_FILE;
const client = new CatalogClient({ discoveryApi: { getBaseUrl: async () => baseUrl } });
const names = items => items.map(e => e.metadata.name);
const out = {};

out.getEntities = names(
  (await client.getEntities({ filter: { kind: 'component', 'spec.type': 'website' }, fields: ['metadata.name'] })).items,
).sort();

out.getEntitiesByRefs = (
  await client.getEntitiesByRefs({
    entityRefs: ['component:default/orders', 'component:default/missing', 'group:default/team-b'],
    fields: ['kind', 'metadata.name'],
  })
).items.map(e => (e ? `${e.kind}:${e.metadata.name}` : null));

// Page through every component sorted by name, following nextCursor to the end and prevCursor back.
const pages = [];
let page = await client.queryEntities({
  filter: { kind: 'component' },
  orderFields: { field: 'metadata.name', order: 'asc' },
  fields: ['metadata.name'],
  limit: 4,
});
out.queryTotalItems = page.totalItems;
pages.push(names(page.items));
while (page.pageInfo.nextCursor) {
  page = await client.queryEntities({ cursor: page.pageInfo.nextCursor, limit: 4, fields: ['metadata.name'] });
  pages.push(names(page.items));
}
out.queryPages = pages;
const back = [];
while (page.pageInfo.prevCursor) {
  page = await client.queryEntities({ cursor: page.pageInfo.prevCursor, limit: 4, fields: ['metadata.name'] });
  back.push(names(page.items));
}
out.queryPagesBack = back;

out.fullText = names(
  (await client.queryEntities({ fullTextFilter: { term: 'SHOP', fields: ['metadata.name'] } })).items,
);

const streamed = [];
for await (const batch of client.streamEntities({ filter: { kind: 'group' } })) streamed.push(...names(batch));
out.streamEntities = streamed.sort();

const orders = await client.getEntityByRef('component:default/orders');
out.getEntityByRef = { name: orders.metadata.name, uid: Boolean(orders.metadata.uid), relations: orders.relations };
out.getEntityByRefMissing = (await client.getEntityByRef('component:default/ghost')) ?? null;

out.getEntityFacets = (await client.getEntityFacets({ facets: ['spec.type'], filter: { kind: 'component' } })).facets;

const dryRun = await client.addLocation({ type: 'file', target: locationFile, dryRun: true });
out.addLocationDryRun = { exists: dryRun.exists, target: dryRun.location.target, entities: names(dryRun.entities).sort() };
const added = await client.addLocation({ type: 'file', target: locationFile });
out.addLocation = { target: added.location.target, entities: names(added.entities).sort() };
const byRef = await client.getLocationByRef(`file:${added.location.target}`);
out.getLocationByRef = byRef ? byRef.id === added.location.id : null;
const byEntity = await client.getLocationByEntity('component:default/ledger');
out.getLocationByEntity = byEntity ? byEntity.id === added.location.id : null;
await client.refreshEntity('component:default/ledger');
out.refreshEntity = 'ok';

const valid = {
  apiVersion: 'backstage.io/v1alpha1', kind: 'Component', metadata: { name: 'fine' },
  spec: { type: 'service', lifecycle: 'production', owner: 'team-a' },
};
out.validateValid = await client.validateEntity(valid, 'url:https://example.com/catalog-info.yaml');
const invalid = { ...valid, metadata: { name: 'Not Valid!' } };
const result = await client.validateEntity(invalid, 'url:https://example.com/catalog-info.yaml');
out.validateInvalid = { valid: result.valid, count: result.errors.length };

try {
  await client.queryEntities({ cursor: 'garbage' });
  out.badCursor = 'accepted';
} catch (error) {
  out.badCursor = { name: error.name, status: error.response?.status, causeName: error.cause?.name };
}

await client.removeLocationById(added.location.id);
out.removedLocation = (await client.getEntityByRef('component:default/ledger')) ?? null;

console.log(JSON.stringify(out));
