// Discovery as kubectl reads it: api-resources (with -o wide, --namespaced, --api-group, -o name),
// api-versions, version, and explain (fields and --recursive) from the server's OpenAPI v3.
import { describe, expect, it } from 'vitest';
import { ALL_VERSIONS, WITH_INSTALLED, minor, useConformanceCluster } from './harness.ts';
import { expectResult, table, text } from './output.ts';

const c = useConformanceCluster({ kubelet: false });

// Every row is what a v1.33 kube-apiserver serves for that resource; the server serves a subset
// of upstream's resources (no bindings, componentstatuses,
// flowcontrol, node.k8s.io).
const apiResources = text`
  NAME                              SHORTNAMES   APIVERSION                        NAMESPACED   KIND
  configmaps                        cm           v1                                true         ConfigMap
  endpoints                         ep           v1                                true         Endpoints
  events                            ev           v1                                true         Event
  limitranges                       limits       v1                                true         LimitRange
  namespaces                        ns           v1                                false        Namespace
  nodes                             no           v1                                false        Node
  persistentvolumeclaims            pvc          v1                                true         PersistentVolumeClaim
  persistentvolumes                 pv           v1                                false        PersistentVolume
  pods                              po           v1                                true         Pod
  podtemplates                                   v1                                true         PodTemplate
  replicationcontrollers            rc           v1                                true         ReplicationController
  resourcequotas                    quota        v1                                true         ResourceQuota
  secrets                                        v1                                true         Secret
  serviceaccounts                   sa           v1                                true         ServiceAccount
  services                          svc          v1                                true         Service
  mutatingwebhookconfigurations                  admissionregistration.k8s.io/v1   false        MutatingWebhookConfiguration
  validatingwebhookconfigurations                admissionregistration.k8s.io/v1   false        ValidatingWebhookConfiguration
  customresourcedefinitions         crd,crds     apiextensions.k8s.io/v1           false        CustomResourceDefinition
  apiservices                                    apiregistration.k8s.io/v1         false        APIService
  controllerrevisions                            apps/v1                           true         ControllerRevision
  daemonsets                        ds           apps/v1                           true         DaemonSet
  deployments                       deploy       apps/v1                           true         Deployment
  replicasets                       rs           apps/v1                           true         ReplicaSet
  statefulsets                      sts          apps/v1                           true         StatefulSet
  selfsubjectreviews                             authentication.k8s.io/v1          false        SelfSubjectReview
  tokenreviews                                   authentication.k8s.io/v1          false        TokenReview
  localsubjectaccessreviews                      authorization.k8s.io/v1           true         LocalSubjectAccessReview
  selfsubjectaccessreviews                       authorization.k8s.io/v1           false        SelfSubjectAccessReview
  selfsubjectrulesreviews                        authorization.k8s.io/v1           false        SelfSubjectRulesReview
  subjectaccessreviews                           authorization.k8s.io/v1           false        SubjectAccessReview
  horizontalpodautoscalers          hpa          autoscaling/v2                    true         HorizontalPodAutoscaler
  cronjobs                          cj           batch/v1                          true         CronJob
  jobs                                           batch/v1                          true         Job
  certificatesigningrequests        csr          certificates.k8s.io/v1            false        CertificateSigningRequest
  leases                                         coordination.k8s.io/v1            true         Lease
  endpointslices                                 discovery.k8s.io/v1               true         EndpointSlice
  events                            ev           events.k8s.io/v1                  true         Event
  ingressclasses                                 networking.k8s.io/v1              false        IngressClass
  ingresses                         ing          networking.k8s.io/v1              true         Ingress
  networkpolicies                   netpol       networking.k8s.io/v1              true         NetworkPolicy
  poddisruptionbudgets              pdb          policy/v1                         true         PodDisruptionBudget
  clusterrolebindings                            rbac.authorization.k8s.io/v1      false        ClusterRoleBinding
  clusterroles                                   rbac.authorization.k8s.io/v1      false        ClusterRole
  rolebindings                                   rbac.authorization.k8s.io/v1      true         RoleBinding
  roles                                          rbac.authorization.k8s.io/v1      true         Role
  priorityclasses                   pc           scheduling.k8s.io/v1              false        PriorityClass
  storageclasses                    sc           storage.k8s.io/v1                 false        StorageClass
`;

describe.concurrent('kubectl api-resources', () => {
  // Discovery is where versions differ most (aggregated v2beta1 for 1.27–1.29, v2 from 1.30).
  it.each(ALL_VERSIONS)('%s lists every served resource with short names, versions, scope and kind', async (version) => {
    expectResult(await c.kubectl(version, ['api-resources']), { code: 0, stdout: apiResources }, table);
  });

  it.each(WITH_INSTALLED)('%s -o wide adds verbs and categories', async (version) => {
    const result = await c.kubectl(version, ['api-resources', '-o', 'wide']);
    expect(result.code).toBe(0);
    const rows = table(result.stdout).split('\n');
    expect(rows[0]).toMatch(/^NAME\s+SHORTNAMES\s+APIVERSION\s+NAMESPACED\s+KIND\s+VERBS\s+CATEGORIES$/);
    const row = (name: string) => rows.find((line) => line.startsWith(`${name} `))?.replace(/\s+/g, ' ');
    const all = 'create,delete,deletecollection,get,list,patch,update,watch';
    expect([row('pods'), row('namespaces'), row('services'), row('customresourcedefinitions'), row('selfsubjectaccessreviews'), row('configmaps')]).toEqual([
      `pods po v1 true Pod ${all} all`,
      'namespaces ns v1 false Namespace create,delete,get,list,patch,update,watch',
      `services svc v1 true Service ${all} all`,
      `customresourcedefinitions crd,crds apiextensions.k8s.io/v1 false CustomResourceDefinition ${all} api-extensions`,
      'selfsubjectaccessreviews authorization.k8s.io/v1 false SelfSubjectAccessReview create',
      `configmaps cm v1 true ConfigMap ${all}`,
    ]);
    expect(result.stderr).toBe('');
  });

  it.each(WITH_INSTALLED)('%s --namespaced=false lists cluster-scoped resources only', async (version) => {
    const expected = apiResources
      .split('\n')
      .filter((line, i) => i === 0 || line === '' || / false /.test(line))
      .join('\n');
    expectResult(await c.kubectl(version, ['api-resources', '--namespaced=false']), { code: 0, stdout: expected }, table);
  });

  it.each(WITH_INSTALLED)('%s --api-group=apps -o name prints resource.group names', async (version) => {
    expectResult(await c.kubectl(version, ['api-resources', '--api-group=apps', '-o', 'name']), {
      code: 0,
      stdout: 'controllerrevisions.apps\ndaemonsets.apps\ndeployments.apps\nreplicasets.apps\nstatefulsets.apps\n',
    });
  });

  it.each(WITH_INSTALLED)('%s --api-group=batch --verbs=list', async (version) => {
    expectResult(
      await c.kubectl(version, ['api-resources', '--api-group=batch', '--verbs=list']),
      {
        code: 0,
        stdout: text`
          NAME       SHORTNAMES   APIVERSION   NAMESPACED   KIND
          cronjobs   cj           batch/v1     true         CronJob
          jobs                    batch/v1     true         Job
        `,
      },
      table,
    );
  });

  it('1.33 --api-group for a group nobody serves prints nothing', async () => {
    expectResult(await c.kubectl('1.33', ['api-resources', '--api-group=nope.example.com', '--no-headers']), { code: 0, stdout: '' });
  });
});

describe.concurrent('kubectl api-versions', () => {
  it.each(WITH_INSTALLED)('%s lists group/versions, core last', async (version) => {
    expectResult(await c.kubectl(version, ['api-versions']), {
      code: 0,
      stdout: text`
        admissionregistration.k8s.io/v1
        apiextensions.k8s.io/v1
        apiregistration.k8s.io/v1
        apps/v1
        authentication.k8s.io/v1
        authorization.k8s.io/v1
        autoscaling/v1
        autoscaling/v2
        batch/v1
        certificates.k8s.io/v1
        coordination.k8s.io/v1
        discovery.k8s.io/v1
        events.k8s.io/v1
        networking.k8s.io/v1
        policy/v1
        rbac.authorization.k8s.io/v1
        scheduling.k8s.io/v1
        storage.k8s.io/v1
        v1
      `,
    });
  });
});

describe.concurrent('kubectl version', () => {
  const clientVersions: Record<string, string> = {};

  it.each(ALL_VERSIONS)('%s prints client and server versions (and the skew warning)', async (version) => {
    const result = await c.kubectl(version, ['version']);
    const skew = 33 - minor(version) > 1 ? `WARNING: version difference between client (${version}) and server (1.33) exceeds the supported minor version skew of +/-1\n` : '';
    if (minor(version) === 27) {
      // 1.27 still printed the full version.Info structs by default.
      expectResult(result, {
        code: 0,
        stdout: /^Client Version: version\.Info\{Major:"1", Minor:"27", .*\}\nKustomize Version: v\S+\nServer Version: version\.Info\{Major:"1", Minor:"33", GitVersion:"v1\.33\.0\+formicary", GitCommit:"[0-9a-f]{40}", GitTreeState:"clean", BuildDate:"[0-9T:Z-]+", GoVersion:"go1\.\d+\.\d+", Compiler:"gc", Platform:"linux\/amd64"\}\n$/,
        stderr:
          'WARNING: This version information is deprecated and will be replaced with the output from kubectl version --short.  Use --output=yaml|json to get the full version.\n' +
          skew,
      });
    } else {
      clientVersions[version] = /^Client Version: (\S+)/.exec(result.stdout)?.[1] ?? '';
      expectResult(result, {
        code: 0,
        stdout: new RegExp(`^Client Version: v1\\.${minor(version)}\\.\\d+\\nKustomize Version: v\\S+\\nServer Version: v1\\.33\\.0\\+formicary\\n$`),
        stderr: skew,
      });
    }
  });

  it('1.33 -o json carries the server version with the compatibility fields of a 1.33 server', async () => {
    const result = await c.kubectl('1.33', ['version', '-o', 'json']);
    expect(result.code).toBe(0);
    const serverVersion = JSON.parse(result.stdout).serverVersion;
    expect(serverVersion).toEqual({
      major: '1',
      minor: '33',
      emulationMajor: '1',
      emulationMinor: '33',
      minCompatibilityMajor: '1',
      minCompatibilityMinor: '32',
      gitVersion: 'v1.33.0+formicary',
      gitCommit: expect.stringMatching(/^[0-9a-f]{40}$/),
      gitTreeState: 'clean',
      buildDate: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/),
      goVersion: expect.stringMatching(/^go1\.\d+/),
      compiler: 'gc',
      platform: 'linux/amd64',
    });
  });

  it('1.33 --client needs no server', async () => {
    expectResult(await c.kubectl('1.33', ['version', '--client', '--server=https://127.0.0.1:1']), {
      code: 0,
      stdout: /^Client Version: v1\.33\.\d+\nKustomize Version: v\S+\n$/,
    });
  });
});

describe.concurrent('kubectl explain', () => {
  it.each(WITH_INSTALLED)('%s explains a scalar field with its description', async (version) => {
    const result = await c.kubectl(version, ['explain', 'deployment.spec.replicas']);
    // 1.33 prints an empty line more after FIELD: (its template), the server's schema is the same.
    const gap = minor(version) >= 33 ? '\n' : '';
    expectResult(result, {
      code: 0,
      stdout:
        'GROUP:      apps\nKIND:       Deployment\nVERSION:    v1\n\nFIELD: replicas <integer>\n' +
        gap +
        '\nDESCRIPTION:\n    Number of desired pods. This is a pointer to distinguish between explicit\n    zero and not specified. Defaults to 1.\n    \n\n',
    });
  });

  it('1.33 explains a map field of a core kind', async () => {
    expectResult(await c.kubectl('1.33', ['explain', 'configmap.data']), {
      code: 0,
      stdout: text`
        KIND:       ConfigMap
        VERSION:    v1

        FIELD: data <map[string]string>


        DESCRIPTION:
            Data contains the configuration data. Each key must consist of alphanumeric
            characters, '-', '_' or '.'. Values with non-UTF-8 byte sequences must use
            the BinaryData field. The keys stored in Data must not overlap with the keys
            in the BinaryData field, this is enforced during validation process.
            

      `,
    });
  });

  it('1.33 explains a nested container field', async () => {
    const result = await c.kubectl('1.33', ['explain', 'pods.spec.containers.image']);
    expectResult(result, {
      code: 0,
      stdout: /^KIND:       Pod\nVERSION:    v1\n\nFIELD: image <string>\n\n\nDESCRIPTION:\n    Container image name\. More info:\n    https:\/\/kubernetes\.io\/docs\/concepts\/containers\/images This field is optional\n    to allow higher level config management to default or override container\n    images in workload controllers like Deployments and StatefulSets\.\n/,
    });
  });

  // KNOWN-GAPS.md "explain: descriptions of fields that reference another type".
  it.fails('1.33 explains a kind: fields that reference a type carry their own description', async () => {
    const result = await c.kubectl('1.33', ['explain', 'pods']);
    expect(result.code).toBe(0);
    const words = result.stdout.replace(/\s+/g, ' ');
    expect(words).toContain("metadata <ObjectMeta> Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata");
    expect(words).toContain('spec <PodSpec> Specification of the desired behavior of the pod. More info:');
    expect(words).toContain('status <PodStatus> Most recently observed status of the pod. This data may not be up to date.');
  });

  it('1.33 explains a kind: header, description and every top-level field', async () => {
    const result = await c.kubectl('1.33', ['explain', 'pods']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^KIND:       Pod\nVERSION:    v1\n\nDESCRIPTION:\n    Pod is a collection of containers that can run on a host\. This resource is\n    created by clients and scheduled onto hosts\.\n    \nFIELDS:\n  apiVersion\t<string>\n/);
    expect([...result.stdout.matchAll(/^ {2}(\w+)\t<(\S+)>/gm)].map((m) => `${m[1]} ${m[2]}`)).toEqual(['apiVersion string', 'kind string', 'metadata ObjectMeta', 'spec PodSpec', 'status PodStatus']);
  });

  // KNOWN-GAPS.md "explain: no enums".
  it.fails.each(WITH_INSTALLED)('%s --recursive prints the field tree with enums', async (version) => {
    const result = await c.kubectl(version, ['explain', 'deployment.spec.strategy', '--recursive']);
    expect(result.code).toBe(0);
    expect(result.stdout.slice(result.stdout.indexOf('FIELDS:'))).toBe('FIELDS:\n  rollingUpdate\t<RollingUpdateDeployment>\n    maxSurge\t<IntOrString>\n    maxUnavailable\t<IntOrString>\n  type\t<string>\n  enum: Recreate, RollingUpdate\n\n\n');
  });

  it('1.33 names a missing field', async () => {
    expectResult(await c.kubectl('1.33', ['explain', 'pods.spec.nope']), { code: 1, stdout: 'KIND:       Pod\nVERSION:    v1\n\n', stderr: 'error: field "nope" does not exist\n' });
  });

  it.each(WITH_INSTALLED)('%s --recursive prints the field tree', async (version) => {
    const result = await c.kubectl(version, ['explain', 'deployment.spec', '--recursive']);
    expect(result.code).toBe(0);
    const fields = result.stdout.slice(result.stdout.indexOf('FIELDS:'));
    expect(fields).toMatch(/^FIELDS:\n  minReadySeconds\t<integer>\n  paused\t<boolean>\n  progressDeadlineSeconds\t<integer>\n  replicas\t<integer>\n  revisionHistoryLimit\t<integer>\n  selector\t<LabelSelector> -required-\n    matchExpressions\t<\[\]LabelSelectorRequirement>\n      key\t<string> -required-\n      operator\t<string> -required-\n      values\t<\[\]string>\n    matchLabels\t<map\[string\]string>\n  strategy\t<DeploymentStrategy>\n    rollingUpdate\t<RollingUpdateDeployment>\n      maxSurge\t<IntOrString>\n      maxUnavailable\t<IntOrString>\n    type\t<string>\n/);
    expect(fields).toContain('  template\t<PodTemplateSpec> -required-\n    metadata\t<ObjectMeta>\n');
    expect(fields).toContain('      containers\t<[]Container> -required-\n        args\t<[]string>\n');
  });

  it.each(WITH_INSTALLED)('%s names an unknown resource type', async (version) => {
    expectResult(await c.kubectl(version, ['explain', 'nosuch']), { code: 1, stdout: '', stderr: 'the server doesn\'t have a resource type "nosuch"\n' });
  });
});
