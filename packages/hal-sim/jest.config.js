module.exports = { ...require('../../jest.preset.js'), displayName: 'hal-sim' };
