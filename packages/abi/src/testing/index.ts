export { describeBackendContract } from './backend-contract-suite';
export type { BackendContractExpectations, TestRunnerApi } from './backend-contract-suite';
export type { ForeignMapping, MapShared } from './share-contract';
