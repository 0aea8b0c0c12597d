import { describe, expect, it } from 'vitest';
import { negotiateDiscovery, negotiateObjectRepresentation, parseAccept } from '../../../src/cluster/apiserver/media.ts';

const discoveryAccept = {
  kubectl127: 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json',
  kubectl133: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json',
};

describe('Accept negotiation', () => {
  it('serves v2beta1 aggregated discovery to kubectl 1.27 and v2 to 1.33, never confusing the two', () => {
    expect(negotiateDiscovery(discoveryAccept.kubectl127)).toEqual({ aggregated: true, version: 'v2beta1' });
    expect(negotiateDiscovery(discoveryAccept.kubectl133)).toEqual({ aggregated: true, version: 'v2' });
    expect(negotiateDiscovery('application/json')).toEqual({ aggregated: false });
    expect(negotiateDiscovery(undefined)).toEqual({ aggregated: false });
    expect(negotiateDiscovery('application/json;g=apidiscovery.k8s.io;v=v3;as=APIGroupDiscoveryList')).toBeUndefined();
  });

  it('picks the Table kubectl get asks for, and plain objects otherwise', () => {
    const kubectlGet = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';
    expect(negotiateObjectRepresentation(kubectlGet)).toEqual({ as: 'Table', version: 'v1', encoding: 'json' });
    expect(negotiateObjectRepresentation('application/json, */*;q=0.8')).toEqual({ as: 'Object', encoding: 'json' });
    expect(negotiateObjectRepresentation('application/vnd.kubernetes.protobuf,application/json')).toEqual({ as: 'Object', encoding: 'json' });
    expect(negotiateObjectRepresentation('application/yaml')).toEqual({ as: 'Object', encoding: 'yaml' });
    expect(negotiateObjectRepresentation('application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1')).toMatchObject({ as: 'PartialObjectMetadata', list: true });
    expect(negotiateObjectRepresentation('text/html')).toBeUndefined();
  });

  it('orders ranges by q, keeping the client order for ties', () => {
    expect(parseAccept('text/plain;q=0.5, application/json, application/yaml;q=0.9').map((r) => `${r.type}/${r.subtype}`)).toEqual([
      'application/json',
      'application/yaml',
      'text/plain',
    ]);
  });
});
