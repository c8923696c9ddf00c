module.exports = { ...require('../../jest.preset.js'), displayName: 'region-core' };
