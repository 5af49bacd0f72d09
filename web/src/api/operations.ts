// Every GraphQL operation the console sends. `npm run codegen` types them from ../schema.graphql.

export const ME = /* GraphQL */ `
  query Me {
    me { tenantId role user { id email displayName isPlatformAdmin }
         memberships { tenantId tenantName tenantSlug role } }
  }
`;

export const PROJECTS = /* GraphQL */ `
  query Projects($first: Int!, $after: String, $search: String) {
    projects(first: $first, after: $after, search: $search) {
      nodes { id name description updatedAt }
      pageInfo { hasNextPage endCursor }
    }
  }
`;

export const PROJECT = /* GraphQL */ `
  query Project($id: ID!) {
    project(id: $id) {
      __typename
      ... on Project {
        id name description createdAt
        assets { id kind status filename sizeBytes errorCode createdAt }
        jobs(first: 20) { nodes { id state progress currentStage errorCode createdAt finishedAt } }
      }
      ... on NotFoundError { code message }
    }
  }
`;

export const CREATE_PROJECT = /* GraphQL */ `
  mutation CreateProject($input: CreateProjectInput!) {
    createProject(input: $input) {
      __typename
      ... on ProjectPayload { project { id name } }
      ... on Error { code message field }
    }
  }
`;

export const UPDATE_PROJECT = /* GraphQL */ `
  mutation UpdateProject($input: UpdateProjectInput!) {
    updateProject(input: $input) {
      __typename
      ... on ProjectPayload { project { id name description } }
      ... on Error { code message field }
    }
  }
`;

export const DELETE_PROJECT = /* GraphQL */ `
  mutation DeleteProject($id: ID!) {
    deleteProject(id: $id) {
      __typename
      ... on DeleteProjectPayload { deletedId }
      ... on Error { code message field }
    }
  }
`;

export const PREPARE_UPLOAD = /* GraphQL */ `
  mutation PrepareUpload($input: PrepareUploadInput!) {
    prepareUpload(input: $input) {
      __typename
      ... on UploadTicket { endpoint uploadMetadata maxSize checksumAlgorithms
                           metadata { key value } }
      ... on Error { code message field }
    }
  }
`;

export const QUOTA = /* GraphQL */ `
  query Quota {
    quota { period isDefault plan
      limits { concurrentJobs processingMinutesPerMonth storageBytes }
      usage { concurrentJobs processingMinutes storageBytes } }
  }
`;

export const START_RENDER = /* GraphQL */ `
  mutation StartRender($projectId: ID!, $options: RenderOptionsInput) {
    startRender(projectId: $projectId, options: $options) {
      __typename
      ... on JobPayload { job { id state } }
      ... on Error { code message field }
    }
  }
`;

export const JOB = /* GraphQL */ `
  query Job($id: ID!) {
    job(id: $id) {
      __typename
      ... on Job {
        id projectId state progress currentStage seq errorCode errorMessage options
        createdAt startedAt finishedAt
        stages { stage state attempt progress message errorCode errorMessage cached startedAt finishedAt }
        downloads { name size url }
      }
      ... on NotFoundError { code message }
    }
  }
`;

export const JOB_PROGRESS = /* GraphQL */ `
  subscription JobProgress($jobId: ID!) {
    jobProgress(jobId: $jobId) { jobId seq kind stage state progress message at stages }
  }
`;

export const CANCEL_JOB = /* GraphQL */ `
  mutation CancelJob($jobId: ID!) {
    cancelJob(jobId: $jobId) { __typename ... on JobPayload { job { id state } } ... on Error { code message field } }
  }
`;

export const RETRY_JOB = /* GraphQL */ `
  mutation RetryJob($jobId: ID!) {
    retryJob(jobId: $jobId) { __typename ... on JobPayload { job { id state } } ... on Error { code message field } }
  }
`;

export const ALIGNMENT = /* GraphQL */ `
  query Alignment($jobId: ID!) {
    alignment(jobId: $jobId) {
      __typename
      ... on AlignmentPayload { jobId edited alignment media { sourceId assetId filename url } }
      ... on NotFoundError { code message }
      ... on ConflictError { code message }
    }
  }
`;

export const UPDATE_ALIGNMENT = /* GraphQL */ `
  mutation UpdateAlignment($jobId: ID!, $beats: [BeatEditInput!]!) {
    updateAlignment(jobId: $jobId, beats: $beats) {
      __typename
      ... on AlignmentPayload { jobId edited alignment }
      ... on Error { code message field }
    }
  }
`;

export const APPROVE_ALIGNMENT = /* GraphQL */ `
  mutation ApproveAlignment($jobId: ID!) {
    approveAlignment(jobId: $jobId) { __typename ... on JobPayload { job { id state } } ... on Error { code message field } }
  }
`;

export const TENANT = /* GraphQL */ `
  query Tenant {
    tenant {
      __typename
      ... on Tenant { id name slug members { userId email displayName role joinedAt }
                      invitations { id email role expiresAt } }
      ... on PermissionDeniedError { code message }
    }
  }
`;

export const CHANGE_ROLE = /* GraphQL */ `
  mutation ChangeRole($userId: ID!, $role: Role!) {
    changeRole(userId: $userId, role: $role) { __typename ... on MemberPayload { member { userId role } } ... on Error { code message field } }
  }
`;

export const REMOVE_MEMBER = /* GraphQL */ `
  mutation RemoveMember($userId: ID!) {
    removeMember(userId: $userId) { __typename ... on RemoveMemberPayload { removedUserId } ... on Error { code message field } }
  }
`;

export const INVITE_MEMBER = /* GraphQL */ `
  mutation InviteMember($email: String!, $role: Role!) {
    addMember(email: $email, role: $role) {
      __typename ... on InvitationPayload { invitation { id email role expiresAt } } ... on Error { code message field }
    }
  }
`;

export const REVOKE_INVITATION = /* GraphQL */ `
  mutation RevokeInvitation($invitationId: ID!) {
    revokeInvitation(invitationId: $invitationId) {
      __typename ... on RevokeInvitationPayload { revokedInvitationId } ... on Error { code message field }
    }
  }
`;

export const ACCEPT_INVITATION = /* GraphQL */ `
  mutation AcceptInvitation($token: String!) {
    acceptInvitation(token: $token) {
      __typename ... on InvitationAccepted { tenantId tenantName role } ... on Error { code message field }
    }
  }
`;

export const AUDIT_EVENTS = /* GraphQL */ `
  query AuditEvents($first: Int!, $after: String, $filter: AuditEventFilter) {
    auditEvents(first: $first, after: $after, filter: $filter) {
      __typename
      ... on AuditEventConnection {
        edges { cursor node { id actorId action targetType targetId ip createdAt } }
        pageInfo { hasNextPage endCursor }
      }
      ... on Error { code message field }
    }
  }
`;

export const REQUEST_DATA_EXPORT = /* GraphQL */ `
  mutation RequestDataExport {
    requestDataExport {
      __typename
      ... on DataExport { id state sizeBytes errorCode expiresAt downloadUrl }
      ... on Error { code message field }
    }
  }
`;

export const DATA_EXPORT = /* GraphQL */ `
  query DataExport($id: ID!) {
    dataExport(id: $id) {
      __typename
      ... on DataExport { id state sizeBytes errorCode expiresAt downloadUrl }
      ... on Error { code message field }
    }
  }
`;

export const DELETE_ACCOUNT = /* GraphQL */ `
  mutation DeleteAccount($password: String!) {
    deleteAccount(password: $password) { __typename ... on DeleteAccountPayload { deletedId } ... on Error { code message field } }
  }
`;

export const DELETE_TENANT = /* GraphQL */ `
  mutation DeleteTenant($confirmSlug: String!) {
    deleteTenant(confirmSlug: $confirmSlug) { __typename ... on DeleteTenantPayload { deletedId } ... on Error { code message field } }
  }
`;
